"""Strict mode: only configured users, apps, certificates and tokens; exact OAuth error bodies."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from salesforce_bridge import JwtBearerGrant, SalesforceAuthError, SalesforceBridge
from salesforce_bridge.emulator import (
    DEFAULT_BASE_URL,
    ConnectedApp,
    EmulatorUser,
    SalesforceEmulator,
    emulator_session,
)

TOKEN_URL = f"{DEFAULT_BASE_URL}/services/oauth2/token"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
USER = "int@acme.com"


@pytest.fixture(scope="module")
def other_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def http(certificate_pem: bytes) -> requests.Session:
    emulator = SalesforceEmulator(
        strict=True,
        users=[EmulatorUser(USER, "right")],
        apps=[ConnectedApp("cid", "secret", certificate=certificate_pem, run_as=USER)],
        refresh_tokens={"rt-1": USER},
    )
    return emulator_session(emulator)


def assertion(key: rsa.RSAPrivateKey, **claims: Any) -> str:
    body: dict[str, Any] = {
        "iss": "cid",
        "sub": USER,
        "aud": "https://login.salesforce.com",
        "exp": int(time.time()) + 180,
        **claims,
    }
    return jwt.encode(body, key, algorithm="RS256")


def post(http: requests.Session, form: dict[str, str]) -> tuple[int, object]:
    answer = http.post(TOKEN_URL, data=form, timeout=5)
    return answer.status_code, answer.json()


def test_right_certificate_is_accepted(http: requests.Session, rsa_key: rsa.RSAPrivateKey) -> None:
    status, body = post(http, {"grant_type": JWT_GRANT, "assertion": assertion(rsa_key)})
    assert status == 200
    assert isinstance(body, dict)
    assert {"access_token", "instance_url", "id", "token_type"} <= body.keys()


@pytest.mark.parametrize(
    ("claims", "description"),
    [
        ({}, "invalid assertion"),  # signed with a key that does not match the certificate
        ({"sub": "stranger@acme.com"}, "invalid assertion"),
        ({"exp": 1}, "expired authorization code"),
    ],
)
def test_wrong_certificate_gets_the_exact_error_body(
    http: requests.Session,
    other_key: rsa.RSAPrivateKey,
    claims: dict[str, Any],
    description: str,
) -> None:
    form = {"grant_type": JWT_GRANT, "assertion": assertion(other_key, **claims)}
    assert post(http, form) == (400, {"error": "invalid_grant", "error_description": description})


@pytest.mark.parametrize(
    ("form", "body"),
    [
        (
            {"grant_type": JWT_GRANT, "assertion": "not.a.jwt"},
            {"error": "invalid_grant", "error_description": "invalid assertion"},
        ),
        (
            {"grant_type": "password", "client_id": "cid", "client_secret": "secret"}
            | {"username": USER, "password": "wrong"},
            {"error": "invalid_grant", "error_description": "authentication failure"},
        ),
        (
            {"grant_type": "password", "client_id": "cid", "client_secret": "secret"}
            | {"username": "nobody@acme.com", "password": "right"},
            {"error": "invalid_grant", "error_description": "authentication failure"},
        ),
        (
            {"grant_type": "password", "client_id": "nope", "client_secret": "secret"}
            | {"username": USER, "password": "right"},
            {"error": "invalid_client_id", "error_description": "client identifier invalid"},
        ),
        (
            {"grant_type": "client_credentials", "client_id": "cid", "client_secret": "bad"},
            {"error": "invalid_client", "error_description": "invalid client credentials"},
        ),
        (
            {"grant_type": "refresh_token", "client_id": "cid", "refresh_token": "rt-2"},
            {"error": "invalid_grant", "error_description": "expired access/refresh token"},
        ),
    ],
)
def test_other_refusals_get_exact_bodies(
    http: requests.Session, form: dict[str, str], body: dict[str, str]
) -> None:
    assert post(http, form) == (400, body)


def test_unconfigured_user_with_the_right_certificate(
    http: requests.Session, rsa_key: rsa.RSAPrivateKey
) -> None:
    form = {"grant_type": JWT_GRANT, "assertion": assertion(rsa_key, sub="stranger@acme.com")}
    expected = {"error": "invalid_grant", "error_description": "user hasn't approved this consumer"}
    assert post(http, form) == (400, expected)


def test_bridge_surfaces_the_refusal_typed(
    http: requests.Session, other_key: rsa.RSAPrivateKey
) -> None:
    pem = other_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    grant = JwtBearerGrant(
        client_id="cid", username=USER, private_key=pem, login_url=DEFAULT_BASE_URL
    )
    with pytest.raises(SalesforceAuthError) as info:
        SalesforceBridge(grant=grant, session=http).count("SELECT COUNT() FROM Account")
    assert (info.value.error, info.value.description, info.value.status_code) == (
        "invalid_grant",
        "invalid assertion",
        400,
    )


def test_only_issued_tokens_reach_data(http: requests.Session, rsa_key: rsa.RSAPrivateKey) -> None:
    url = f"{DEFAULT_BASE_URL}/services/data/v62.0/limits"
    forged = http.get(url, headers={"Authorization": "Bearer forged"}, timeout=5)
    assert (forged.status_code, forged.json()) == (
        401,
        [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}],
    )
    _, body = post(http, {"grant_type": JWT_GRANT, "assertion": assertion(rsa_key)})
    assert isinstance(body, dict)
    issued = http.get(url, headers={"Authorization": f"Bearer {body['access_token']}"}, timeout=5)
    assert issued.status_code == 200
