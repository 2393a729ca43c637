"""The emulated identity-domain token endpoint (reference §1, OAuth via IDCS): the package's
IDCS auth classes and plain form posts against it, then the token on the REST API."""

from __future__ import annotations

import time

import jwt
import pytest
import requests

from oracle_fusion_client import (
    ClientAssertion,
    ClientSecret,
    FusionAuth,
    FusionAuthError,
    FusionClient,
    IDCSClientCredentialsAuth,
    IDCSUserAssertionAuth,
    SigningKey,
    fusion_scope,
)
from oracle_fusion_client.emulator import (
    AuthPolicy,
    EmulatorConfig,
    FusionEmulator,
    IdcsClient,
)

BASE = "https://fusion.emulator"
TOKEN_URL = f"{BASE}/oauth2/v1/token"
SCOPE = fusion_scope("589866548")


@pytest.fixture
def strict(cert_pem: bytes) -> FusionEmulator:
    """Fusion refuses every credential but its own tokens; the domain knows one app."""
    app = IdcsClient("paysync-app", secret="app-secret-1", certificate_pem=cert_pem)
    config = EmulatorConfig(auth=AuthPolicy(strict=True), idcs_clients=(app,))
    return FusionEmulator(config)


def _client(emulator: FusionEmulator, auth: FusionAuth) -> FusionClient:
    return FusionClient(base_url=BASE, auth=auth, session=emulator.session(BASE))


def test_user_assertion_grant_token_opens_the_rest_api(
    strict: FusionEmulator, key_pem: bytes, cert_pem: bytes
) -> None:
    auth = IDCSUserAssertionAuth(
        token_url=TOKEN_URL,
        client=ClientSecret("paysync-app", "app-secret-1"),
        username="CASEY.BROWN",
        user_signing_key=SigningKey.from_pem(key_pem, cert_pem),
        scope=SCOPE,
        session=strict.session(BASE),
    )
    token = auth.token()
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["sub"] == "CASEY.BROWN"
    assert claims["scope"] == SCOPE
    assert claims["exp"] - claims["iat"] == 3600
    client = _client(strict, auth)
    assert client.standard_receipts.find_by_number("NONE-1") is None  # 401 would raise


def test_client_assertion_client_credentials(
    strict: FusionEmulator, key_pem: bytes, cert_pem: bytes
) -> None:
    auth = IDCSClientCredentialsAuth(
        token_url=TOKEN_URL,
        client=ClientAssertion("paysync-app", SigningKey.from_pem(key_pem, cert_pem)),
        scope=SCOPE,
        session=strict.session(BASE),
    )
    claims = jwt.decode(auth.token(), options={"verify_signature": False})
    assert claims["sub"] == "paysync-app"


def test_wrong_secret_is_invalid_client(strict: FusionEmulator, key_pem: bytes) -> None:
    auth = IDCSClientCredentialsAuth(
        token_url=TOKEN_URL,
        client=ClientSecret("paysync-app", "not-the-secret"),
        scope=SCOPE,
        session=strict.session(BASE),
    )
    with pytest.raises(FusionAuthError) as info:
        auth.token()
    assert info.value.status_code == 401
    assert info.value.error_code == "invalid_client"
    assert info.value.detail == "Client authentication failed."
    assert "not-the-secret" not in str(info.value)


def test_assertion_signed_by_an_unknown_key_is_invalid_grant(
    strict: FusionEmulator, other_key_pem: bytes, other_cert_pem: bytes
) -> None:
    auth = IDCSUserAssertionAuth(
        token_url=TOKEN_URL,
        client=ClientSecret("paysync-app", "app-secret-1"),
        username="CASEY.BROWN",
        user_signing_key=SigningKey.from_pem(other_key_pem, other_cert_pem),
        scope=SCOPE,
        session=strict.session(BASE),
    )
    with pytest.raises(FusionAuthError) as info:
        auth.token()
    assert (info.value.status_code, info.value.error_code) == (400, "invalid_grant")


def _post(
    emulator: FusionEmulator, data: dict[str, str], auth: tuple[str, str] | None = None
) -> requests.Response:
    """A plain form post, as ``curl -u id:secret -d grant_type=...`` sends it."""
    return emulator.session(BASE).post(TOKEN_URL, data=data, auth=auth)


def test_oauth_error_bodies(strict: FusionEmulator, key_pem: bytes, cert_pem: bytes) -> None:
    app = ("paysync-app", "app-secret-1")
    unsupported = _post(strict, {"grant_type": "password", "scope": SCOPE}, auth=app)
    assert unsupported.status_code == 400
    assert unsupported.json() == {
        "error": "unsupported_grant_type",
        "error_description": "The grant type password is not supported.",
    }
    no_client = _post(strict, {"grant_type": "client_credentials", "scope": SCOPE})
    assert (no_client.status_code, no_client.json()["error"]) == (401, "invalid_client")
    no_scope = _post(strict, {"grant_type": "client_credentials"}, auth=app)
    assert (no_scope.status_code, no_scope.json()["error"]) == (400, "invalid_scope")
    no_assertion = _post(
        strict, {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer"}, auth=app
    )
    assert (no_assertion.status_code, no_assertion.json()["error"]) == (400, "invalid_request")
    as_json = strict.session(BASE).post(
        TOKEN_URL, json={"grant_type": "client_credentials", "scope": SCOPE}, auth=app
    )
    assert (as_json.status_code, as_json.json()["error"]) == (400, "invalid_request")
    key = SigningKey.from_pem(key_pem, cert_pem)
    now = int(time.time())
    expired = key.sign(
        {
            "sub": "CASEY.BROWN",
            "iss": "paysync-app",
            "aud": "https://identity.oraclecloud.com/",
            "iat": now - 7200,
            "exp": now - 3600,
        }
    )
    refused = _post(
        strict,
        {
            "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "assertion": expired,
            "scope": SCOPE,
        },
        auth=app,
    )
    assert refused.status_code == 400
    assert refused.json() == {
        "error": "invalid_grant",
        "error_description": "The assertion has expired.",
    }
    wrong_audience = key.sign(
        {"sub": "CASEY.BROWN", "iss": "paysync-app", "aud": "https://elsewhere/", "exp": now + 60}
    )
    refused = _post(
        strict,
        {
            "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "assertion": wrong_audience,
            "scope": SCOPE,
        },
        auth=app,
    )
    assert refused.json()["error"] == "invalid_grant"
    granted = _post(strict, {"grant_type": "client_credentials", "scope": SCOPE}, auth=app)
    assert granted.status_code == 200
    assert granted.headers["Cache-Control"] == "no-store"
    body = granted.json()
    assert list(body) == ["access_token", "token_type", "expires_in"]
    assert (body["token_type"], body["expires_in"]) == ("Bearer", 3600)


def test_lenient_domain_grants_any_well_formed_request() -> None:
    emulator = FusionEmulator()
    granted = _post(emulator, {"grant_type": "client_credentials", "scope": "s"}, auth=("any", "x"))
    assert granted.status_code == 200
    forged = granted.json()["access_token"][:-4] + "AAAA"
    strict = FusionEmulator(EmulatorConfig(auth=AuthPolicy(strict=True)))
    response = strict.session(BASE).get(
        f"{BASE}/fscmRestApi/resources/11.13.18.05/standardReceipts",
        headers={"Authorization": f"Bearer {forged}"},
    )
    assert response.status_code == 401
