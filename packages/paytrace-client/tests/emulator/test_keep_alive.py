"""The port server keeps connections open (HTTP/1.1), as PayTrace clients expect."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator

from paytrace_client.emulator import EmulatorServer, PayTraceEmulator

SALE = {
    "amount": "1.00",
    "credit_card": {"number": "4111111111111111", "expiration_month": 12, "expiration_year": 2030},
}


def _token(connection: http.client.HTTPConnection) -> str:
    connection.request(
        "POST",
        "/oauth/token",
        body="grant_type=password&username=demo123&password=demo123",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    response = connection.getresponse()
    assert response.getheader("Connection") is None
    return str(json.loads(response.read())["access_token"])


def test_many_requests_share_one_connection_including_chunked_bodies() -> None:
    with EmulatorServer(PayTraceEmulator()) as server:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        headers = {"Authorization": f"Bearer {_token(connection)}"}
        first_socket = connection.sock
        for _ in range(5):
            connection.request(
                "POST",
                "/v1/transactions/sale/keyed",
                body=json.dumps(SALE),
                headers=headers | {"Content-Type": "application/json"},
            )
            reply = connection.getresponse()
            assert json.loads(reply.read())["response_code"] == 101
            assert connection.sock is first_socket

        def chunks() -> Iterator[bytes]:
            text = json.dumps(SALE).encode()
            yield text[:10]
            yield text[10:]

        connection.request(
            "POST",
            "/v1/transactions/sale/keyed",
            body=chunks(),
            headers=headers | {"Content-Type": "application/json"},
            encode_chunked=True,
        )
        assert json.loads(connection.getresponse().read())["response_code"] == 101
        assert connection.sock is first_socket
        connection.request(
            "POST",
            "/v1/transactions/sale/keyed",
            body=json.dumps(SALE),
            headers=headers | {"Connection": "close"},
        )
        closing = connection.getresponse()
        closing.read()
        assert closing.getheader("Connection") == "close"
        connection.close()
