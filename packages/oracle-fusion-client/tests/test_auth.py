"""Authentication strategies with real keys generated in the test."""

from __future__ import annotations

import base64
import hashlib
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qs

import jwt
import pytest
import requests
import responses
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from oracle_fusion_client import (
    BasicAuth,
    BearerTokenAuth,
    ClientAssertion,
    ClientSecret,
    FusionAuthError,
    FusionInputError,
    FusionJWTAuth,
    IDCSClientCredentialsAuth,
    IDCSUserAssertionAuth,
    SigningKey,
    fusion_scope,
    x5t_thumbprint,
)

TOKEN_URL = "https://idcs-abc.identity.oraclecloud.com/oauth2/v1/token"


def public_pem(cert_pem: bytes) -> bytes:
    return (
        x509.load_pem_x509_certificate(cert_pem)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 5, 12, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now


def test_x5t_is_unpadded_base64url_of_sha1_of_der(key_pem: bytes, cert_pem: bytes) -> None:
    der = x509.load_pem_x509_certificate(cert_pem).public_bytes(serialization.Encoding.DER)
    expected = (
        base64.urlsafe_b64encode(hashlib.sha1(der, usedforsecurity=False).digest())
        .decode()
        .rstrip("=")
    )
    assert x5t_thumbprint(x509.load_pem_x509_certificate(cert_pem)) == expected
    assert len(expected) == 27
    assert "=" not in expected


def test_fusion_jwt_claims_header_and_signature(key_pem: bytes, cert_pem: bytes) -> None:
    clock = FakeClock()
    key = SigningKey.from_pem(key_pem, cert_pem)
    auth = FusionJWTAuth(
        username="CASEY.BROWN",
        issuer="paysync",
        signing_key=key,
        audience="https://pod.example/",
        lifetime=timedelta(hours=1),
        clock=clock,
    )
    token = auth.token()
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "RS256", "typ": "JWT", "x5t": key.x5t}
    claims = jwt.decode(
        token,
        public_pem(cert_pem),
        algorithms=["RS256"],
        audience="https://pod.example/",
        options={"verify_exp": False, "verify_iat": False},
    )
    iat = int(clock.now.timestamp())
    assert len(claims.pop("jti")) == 32
    assert claims == {
        "iss": "paysync",
        "prn": "CASEY.BROWN",
        "sub": "CASEY.BROWN",
        "aud": "https://pod.example/",
        "iat": iat,
        "exp": iat + 3600,
    }
    assert auth.authorization() == f"Bearer {token}"


def test_fusion_jwt_with_kid_only(key_pem: bytes, cert_pem: bytes) -> None:
    key = SigningKey.from_pem(key_pem, kid="paysync-cert")
    auth = FusionJWTAuth(username="u", issuer="i", signing_key=key)
    assert jwt.get_unverified_header(auth.token())["kid"] == "paysync-cert"
    assert "x5t" not in jwt.get_unverified_header(auth.token())


def test_signing_key_needs_a_certificate_or_kid(key_pem: bytes, cert_pem: bytes) -> None:
    with pytest.raises(FusionInputError):
        SigningKey.from_pem(key_pem)
    with pytest.raises(FusionInputError):
        SigningKey.from_pem(b"not a key", cert_pem)


def test_signing_key_from_files(tmp_path: Path, key_pem: bytes, cert_pem: bytes) -> None:
    (tmp_path / "k.pem").write_bytes(key_pem)
    (tmp_path / "c.pem").write_bytes(cert_pem)
    key = SigningKey.from_pem_files(tmp_path / "k.pem", tmp_path / "c.pem")
    assert key.x5t == x5t_thumbprint(x509.load_pem_x509_certificate(cert_pem))


def test_token_is_cached_then_refreshed_before_expiry(key_pem: bytes, cert_pem: bytes) -> None:
    clock = FakeClock()
    auth = FusionJWTAuth(
        username="u",
        issuer="i",
        signing_key=SigningKey.from_pem(key_pem, cert_pem),
        lifetime=timedelta(minutes=10),
        refresh_margin=timedelta(minutes=1),
        clock=clock,
    )
    first = auth.token()
    clock.now += timedelta(minutes=8, seconds=59)
    assert auth.token() == first
    clock.now += timedelta(seconds=1)  # 9 minutes: inside the refresh margin
    second = auth.token()
    assert second != first
    assert auth.tokens_issued == 2
    auth.invalidate()
    assert auth.token() != second
    assert auth.tokens_issued == 3


def test_token_cache_is_thread_safe(key_pem: bytes, cert_pem: bytes) -> None:
    auth = FusionJWTAuth(
        username="u", issuer="i", signing_key=SigningKey.from_pem(key_pem, kid="k")
    )
    tokens: list[str] = []
    threads = [threading.Thread(target=lambda: tokens.append(auth.token())) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(tokens)) == 1
    assert auth.tokens_issued == 1


def test_lifetime_must_exceed_margin(key_pem: bytes, cert_pem: bytes) -> None:
    with pytest.raises(FusionInputError):
        FusionJWTAuth(
            username="u",
            issuer="i",
            signing_key=SigningKey.from_pem(key_pem, kid="k"),
            lifetime=timedelta(seconds=30),
        )


def test_basic_and_bearer() -> None:
    assert (
        BasicAuth("casey", "s3cret").authorization()
        == "Basic " + base64.b64encode(b"casey:s3cret").decode()
    )
    assert BearerTokenAuth("tok").authorization() == "Bearer tok"


def test_fusion_scope() -> None:
    assert (
        fusion_scope("589866548")
        == "urn:opc:resource:fa:instanceid=589866548urn:opc:resource:consumer::all"
    )


@responses.activate
def test_idcs_user_assertion_grant(key_pem: bytes, cert_pem: bytes) -> None:
    responses.post(TOKEN_URL, json={"access_token": "AT-1", "expires_in": 3600})
    key = SigningKey.from_pem(key_pem, cert_pem)
    auth = IDCSUserAssertionAuth(
        token_url=TOKEN_URL,
        client=ClientSecret("client-1", "client-secret-value"),
        username="CASEY.BROWN",
        user_signing_key=key,
        scope=fusion_scope("42"),
    )
    assert auth.authorization() == "Bearer AT-1"
    assert auth.authorization() == "Bearer AT-1"
    assert len(responses.calls) == 1
    request = responses.calls[0].request
    assert (
        request.headers["Authorization"]
        == "Basic " + base64.b64encode(b"client-1:client-secret-value").decode()
    )
    form = parse_qs(str(request.body))
    assert form["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    assert form["scope"] == [fusion_scope("42")]
    claims = jwt.decode(
        form["assertion"][0],
        public_pem(cert_pem),
        algorithms=["RS256"],
        audience="https://identity.oraclecloud.com/",
    )
    assert claims["sub"] == "CASEY.BROWN"
    assert claims["iss"] == "client-1"


@responses.activate
def test_idcs_client_credentials_with_client_assertion(key_pem: bytes, cert_pem: bytes) -> None:
    responses.post(TOKEN_URL, json={"access_token": "AT-2", "expires_in": 60})
    auth = IDCSClientCredentialsAuth(
        token_url=TOKEN_URL,
        client=ClientAssertion("client-2", SigningKey.from_pem(key_pem, kid="k")),
        scope="s",
        refresh_margin=timedelta(seconds=10),
    )
    assert auth.token() == "AT-2"
    request = responses.calls[0].request
    assert "Authorization" not in request.headers
    form = parse_qs(str(request.body))
    assert form["grant_type"] == ["client_credentials"]
    assert form["client_assertion_type"] == [
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    ]
    assert jwt.get_unverified_header(form["client_assertion"][0])["kid"] == "k"


@responses.activate
def test_idcs_refusal_is_an_auth_error_without_the_secret() -> None:
    responses.post(
        TOKEN_URL,
        status=401,
        json={"error": "invalid_client", "error_description": "Client authentication failed."},
    )
    auth = IDCSClientCredentialsAuth(
        token_url=TOKEN_URL, client=ClientSecret("c", "very-secret-value"), scope="s"
    )
    with pytest.raises(FusionAuthError) as info:
        auth.token()
    assert info.value.status_code == 401
    assert info.value.error_code == "invalid_client"
    assert "very-secret-value" not in str(info.value)
    assert "very-secret-value" not in repr(auth)


@responses.activate
def test_idcs_connection_failure() -> None:
    responses.post(TOKEN_URL, body=requests.ConnectionError("refused"))
    auth = IDCSClientCredentialsAuth(token_url=TOKEN_URL, client=ClientSecret("c", "x"), scope="s")
    with pytest.raises(Exception, match="token request failed"):
        auth.token()


def test_secrets_never_in_repr_or_str(key_pem: bytes, cert_pem: bytes) -> None:
    key = SigningKey.from_pem(key_pem, cert_pem)
    pem_marker = key_pem.decode().splitlines()[1][:20]
    objects: list[object] = [
        BasicAuth("casey", "hunter2-password"),
        BearerTokenAuth("bearer-token-value"),
        ClientSecret("c", "hunter2-password"),
        key,
        FusionJWTAuth(username="u", issuer="i", signing_key=key),
        IDCSClientCredentialsAuth(
            token_url=TOKEN_URL, client=ClientSecret("c", "hunter2-password"), scope="s"
        ),
    ]
    for obj in objects:
        for text in (repr(obj), str(obj)):
            assert "hunter2-password" not in text
            assert "bearer-token-value" not in text
            assert pem_marker not in text
