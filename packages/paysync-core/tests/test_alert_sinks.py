"""Webhook and SMTP sinks against real local servers (127.0.0.1), end to end with the manager."""

from __future__ import annotations

import json
import socket
import socketserver
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import cast

import pytest
import responses

from paysync_core import (
    Alert,
    AlertDeliveryError,
    AlertManager,
    DeadLetterRule,
    EmailSink,
    Engine,
    FlowDefinition,
    SqliteLedger,
    WebhookSink,
    webhook_payload,
)
from paysync_core.testing import FakeClock, FakeSystem, Fault

AT = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)
ALERT = Alert(
    rule="dead_letter",
    key="dead_letter:e1",
    severity="critical",
    summary="flow f1 dead-lettered",
    at=AT,
    details={"reason": "permanent", "last_error": "HTTP 422 token=s3cr3t"},
)
SECRET_PATH = "/services/T000/B000/XXXXSECRETXXXX"


class _Webhook(BaseHTTPRequestHandler):
    received: list[dict[str, object]]
    status = 200

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        body = json.loads(self.rfile.read(length))
        assert self.headers["Content-Type"] == "application/json"
        type(self).received.append({"path": self.path, "body": body})
        self.send_response(type(self).status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[tuple[str, type[_Webhook]]]:
    handler = type("Handler", (_Webhook,), {"received": [], "status": 200})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}{SECRET_PATH}", handler
    server.shutdown()
    server.server_close()


class _SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321) for smtplib: HELO/EHLO, MAIL, RCPT, DATA, QUIT."""

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        server = self.server
        assert isinstance(server, _SmtpServer)
        self.reply("220 sink ESMTP")
        sender, rcpts = "", list[str]()
        while line := self.rfile.readline().decode().rstrip("\r\n"):
            verb = line.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 sink")
            elif verb == "MAIL":
                sender = line.split(":", 1)[1].strip(" <>")
                self.reply("250 OK")
            elif verb == "RCPT":
                rcpt = line.split(":", 1)[1].strip(" <>")
                if rcpt in server.reject:
                    self.reply("550 no such user")
                    continue
                rcpts.append(rcpt)
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 go ahead")
                data = b""
                while (chunk := self.rfile.readline()) != b".\r\n":
                    data += chunk
                server.mails.append({"from": sender, "rcpt": rcpts, "message": data})
                sender, rcpts = "", []
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 OK")


class _SmtpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _SmtpHandler)
        self.mails: list[dict[str, object]] = []
        self.reject: set[str] = set()


@pytest.fixture
def smtp() -> Iterator[_SmtpServer]:
    server = _SmtpServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _email_sink(server: _SmtpServer, *recipients: str) -> EmailSink:
    return EmailSink(
        "127.0.0.1",
        port=server.server_address[1],
        sender="paysync@example.com",
        recipients=recipients or ("ops@example.com",),
        security="none",
    )


def test_webhook_posts_slack_compatible_json(webhook: tuple[str, type[_Webhook]]) -> None:
    url, handler = webhook
    WebhookSink(url).send(ALERT)
    [request] = handler.received
    assert request["path"] == SECRET_PATH
    body = cast("dict[str, object]", request["body"])
    assert set(body) == {"text"}
    text = str(body["text"])
    assert text.startswith("[paysync critical] flow f1 dead-lettered")
    assert "s3cr3t" not in text


def test_webhook_styles() -> None:
    teams = webhook_payload(ALERT, "teams")
    assert teams["@type"] == "MessageCard"
    assert teams["title"] == "[paysync critical] flow f1 dead-lettered"
    generic = webhook_payload(ALERT, "generic")
    assert generic["key"] == "dead_letter:e1"
    assert generic["at"] == "2026-01-01T12:00:00.000000+00:00"
    assert generic["details"] == {"reason": "permanent", "last_error": "HTTP 422 token=<redacted>"}


def test_webhook_errors_never_show_the_url(webhook: tuple[str, type[_Webhook]]) -> None:
    url, handler = webhook
    handler.status = 500
    with pytest.raises(AlertDeliveryError, match="HTTP 500") as err:
        WebhookSink(url).send(ALERT)
    assert "SECRET" not in str(err.value)
    assert "SECRET" not in repr(WebhookSink(url))
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    with pytest.raises(AlertDeliveryError, match="unreachable") as err:
        WebhookSink(f"http://127.0.0.1:{closed}{SECRET_PATH}", timeout=2).send(ALERT)
    assert "SECRET" not in str(err.value)


@responses.activate
def test_webhook_with_responses_and_extra_headers() -> None:
    responses.post("https://hooks.example.com/x", status=204)
    WebhookSink("https://hooks.example.com/x", style="teams", headers={"X-Env": "prod"}).send(ALERT)
    call = responses.calls[0]
    assert call.request.headers["X-Env"] == "prod"
    body = call.request.body
    assert isinstance(body, bytes)
    assert json.loads(body)["@type"] == "MessageCard"


def test_email_is_sent_over_smtp(smtp: _SmtpServer) -> None:
    _email_sink(smtp, "ops@example.com", "cfo@example.com").send(ALERT)
    [mail] = smtp.mails
    assert mail["from"] == "paysync@example.com"
    assert mail["rcpt"] == ["ops@example.com", "cfo@example.com"]
    raw = mail["message"]
    assert isinstance(raw, bytes)
    message = message_from_bytes(raw)
    assert message["Subject"] == "[paysync critical] flow f1 dead-lettered"
    assert message["X-Paysync-Alert"] == "dead_letter:e1"
    body = str(message.get_payload())
    assert "reason: permanent" in body
    assert "s3cr3t" not in body


def test_email_rejection_is_a_delivery_error(smtp: _SmtpServer) -> None:
    smtp.reject.add("nobody@example.com")
    with pytest.raises(AlertDeliveryError, match=r"SMTP \[550\]"):
        _email_sink(smtp, "nobody@example.com").send(ALERT)


def test_one_incident_is_one_webhook_and_one_email(
    tmp_path: object, webhook: tuple[str, type[_Webhook]], smtp: _SmtpServer
) -> None:
    url, handler = webhook
    store = SqliteLedger(str(tmp_path) + "/ledger.db")
    system, clock = FakeSystem(), FakeClock(AT)
    engine = Engine(store, [FlowDefinition("uc", [system.step("charge")])], clock=clock)
    system.script("charge", Fault.REJECTED)
    flow = engine.submit("uc", source_system="s", source_id="1", version=1, input={})
    engine.run_flow(flow.flow_id)
    sinks = [WebhookSink(url), _email_sink(smtp)]
    manager = AlertManager(store, [DeadLetterRule()], sinks, clock=clock)
    for _ in range(3):
        manager.evaluate()
    assert len(handler.received) == 1
    assert len(smtp.mails) == 1
    store.close()
