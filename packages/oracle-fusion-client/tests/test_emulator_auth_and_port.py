"""Strict-mode credentials, and the emulator on a real port (thread and subprocess)."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from oracle_fusion_client import (
    BasicAuth,
    BearerTokenAuth,
    FusionAuthError,
    FusionClient,
    FusionConnectionError,
    FusionJWTAuth,
    NewStandardReceipt,
    SigningKey,
)
from oracle_fusion_client.emulator import (
    AuthPolicy,
    EmulatorConfig,
    Fault,
    FusionEmulator,
    TrustedIssuer,
    running_emulator,
)

BASE = "https://fusion.emulator"
RECEIPT = NewStandardReceipt(
    ReceiptNumber="P-1",
    ReceiptMethod="Manual",
    BusinessUnit="Vision Operations",
    Amount=Decimal("10.00"),
    Currency="USD",
)


@pytest.fixture
def strict(cert_pem: bytes) -> FusionEmulator:
    policy = AuthPolicy(
        strict=True,
        users={"casey": "Welcome1"},
        trusted_issuers=(TrustedIssuer("paysync", cert_pem),),
    )
    return FusionEmulator(EmulatorConfig(auth=policy))


def _client(emulator: FusionEmulator, auth: object) -> FusionClient:
    assert isinstance(auth, BasicAuth | BearerTokenAuth | FusionJWTAuth)
    return FusionClient(base_url=BASE, auth=auth, session=emulator.session(BASE))


def test_strict_accepts_a_trusted_jwt(
    strict: FusionEmulator, key_pem: bytes, cert_pem: bytes
) -> None:
    auth = FusionJWTAuth(
        username="CASEY.BROWN", issuer="paysync", signing_key=SigningKey.from_pem(key_pem, cert_pem)
    )
    assert _client(strict, auth).standard_receipts.find_by_number("x") is None


def test_strict_accepts_kid_equal_to_issuer(strict: FusionEmulator, key_pem: bytes) -> None:
    auth = FusionJWTAuth(
        username="u", issuer="paysync", signing_key=SigningKey.from_pem(key_pem, kid="paysync")
    )
    assert _client(strict, auth).standard_receipts.find_by_number("x") is None


def test_strict_refuses_wrong_issuer(
    strict: FusionEmulator, key_pem: bytes, cert_pem: bytes
) -> None:
    auth = FusionJWTAuth(
        username="u", issuer="intruder", signing_key=SigningKey.from_pem(key_pem, cert_pem)
    )
    with pytest.raises(FusionAuthError) as info:
        _client(strict, auth).standard_receipts.find_by_number("x")
    assert info.value.status_code == 401


def test_strict_refuses_expired_token(
    strict: FusionEmulator, key_pem: bytes, cert_pem: bytes
) -> None:
    past = datetime.now(timezone.utc) - timedelta(hours=3)
    auth = FusionJWTAuth(
        username="u",
        issuer="paysync",
        signing_key=SigningKey.from_pem(key_pem, cert_pem),
        clock=lambda: past,
    )
    with pytest.raises(FusionAuthError) as info:
        _client(strict, auth).standard_receipts.find_by_number("x")
    assert "expired" in (info.value.detail or "")
    assert auth.tokens_issued == 2  # refreshed once after the first 401


def test_strict_refuses_bad_signature(
    strict: FusionEmulator, other_key_pem: bytes, cert_pem: bytes
) -> None:
    # signed by another key, but claiming the trusted certificate's thumbprint
    forged = SigningKey.from_pem(other_key_pem, cert_pem)
    auth = FusionJWTAuth(username="u", issuer="paysync", signing_key=forged)
    with pytest.raises(FusionAuthError):
        _client(strict, auth).standard_receipts.find_by_number("x")


def test_strict_refuses_unsigned_and_opaque_tokens(strict: FusionEmulator) -> None:
    unsigned = jwt.encode({"iss": "paysync", "sub": "u", "exp": 4102444800}, "", algorithm="none")
    for token in (unsigned, "opaque-token"):
        with pytest.raises(FusionAuthError):
            _client(strict, BearerTokenAuth(token)).standard_receipts.find_by_number("x")


def test_strict_basic_users(strict: FusionEmulator) -> None:
    assert (
        _client(strict, BasicAuth("casey", "Welcome1")).standard_receipts.find_by_number("x")
        is None
    )
    with pytest.raises(FusionAuthError):
        _client(strict, BasicAuth("casey", "wrong")).standard_receipts.find_by_number("x")


def test_lenient_mode_accepts_any_well_formed_credentials() -> None:
    emulator = FusionEmulator()
    for auth in (BasicAuth("anyone", "anything"), BearerTokenAuth("opaque")):
        assert _client(emulator, auth).standard_receipts.find_by_number("x") is None
    response = emulator.session(BASE).get(
        f"{BASE}/fscmRestApi/resources/11.13.18.05/standardReceipts",
        headers={"Authorization": "Basic !!!"},
    )
    assert response.status_code == 401


def test_x5t_with_standard_base64_is_tolerated(
    strict: FusionEmulator, key_pem: bytes, cert_pem: bytes
) -> None:
    key = SigningKey.from_pem(key_pem, cert_pem)
    assert key.x5t is not None
    padded = key.x5t.replace("-", "+").replace("_", "/") + "="
    private = serialization.load_pem_private_key(key_pem, password=None)
    assert isinstance(private, rsa.RSAPrivateKey)
    now = int(datetime.now(timezone.utc).timestamp())
    token = jwt.encode(
        {"iss": "paysync", "prn": "u", "sub": "u", "iat": now, "exp": now + 600},
        private,
        algorithm="RS256",
        headers={"x5t": padded},
    )
    assert _client(strict, BearerTokenAuth(token)).standard_receipts.find_by_number("x") is None


def test_on_a_port_in_a_thread() -> None:
    emulator = FusionEmulator(EmulatorConfig(today=lambda: date(2026, 2, 1)))
    with running_emulator(emulator) as (url, emu):
        assert url.startswith("http://127.0.0.1:")
        client = FusionClient(base_url=url, auth=BasicAuth("u", "p"), sleep=lambda _: None)
        receipt = client.standard_receipts.create(RECEIPT)
        assert receipt.ReceiptDate == date(2026, 2, 1)
        found = client.standard_receipts.find_by_number("P-1")
        assert found is not None
        assert found.StandardReceiptId == receipt.StandardReceiptId
        # a reset over TCP really drops the connection; GET is retried
        emu.inject(Fault("reset", method="GET"))
        assert client.standard_receipts.find_by_number("P-1") is not None
        emu.inject(Fault("reset", method="POST", times=3))
        with pytest.raises(FusionConnectionError):
            client.http.request("POST", "receivablesInvoices", body={})


def test_command_line_prints_the_base_url_first() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "oracle_fusion_client.emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        response = requests.get(
            f"{url}/fscmRestApi/resources/11.13.18.05/standardReceipts?onlyData=true",
            auth=("u", "p"),
            headers={"REST-Framework-Version": "4"},
            timeout=10,
        )
        assert response.status_code == 200
        assert response.json() == {
            "items": [],
            "count": 0,
            "hasMore": False,
            "limit": 25,
            "offset": 0,
        }
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()
