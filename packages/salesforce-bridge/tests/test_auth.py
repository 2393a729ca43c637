"""Wire-level tests of the four grants (responses), with real RS256 keys."""

from __future__ import annotations

import threading
import time
from urllib.parse import parse_qs

import jwt
import pytest
import requests
import responses

from salesforce_bridge import (
    ClientCredentialsGrant,
    JwtBearerGrant,
    PasswordGrant,
    RefreshTokenGrant,
    SalesforceAuthError,
    SalesforceConnectionError,
    SalesforceSession,
    StaticSessionGrant,
)

LOGIN = "https://login.salesforce.com"
TOKEN_URL = f"{LOGIN}/services/oauth2/token"
IDENTITY = f"{LOGIN}/id/00D5g000004xyzAEAQ/0055g00000AbCdEAAV"


def token_body(token: str = "00Dxx!token") -> dict[str, str]:  # noqa: S107
    return {
        "access_token": token,
        "instance_url": "https://acme.my.salesforce.com",
        "id": IDENTITY,
        "token_type": "Bearer",
        "issued_at": "1712693965000",
        "signature": "sig",
        "scope": "api",
    }


def form_of(call: responses.Call) -> dict[str, str]:
    body = call.request.body
    text = body.decode() if isinstance(body, bytes) else str(body)
    return {k: v[0] for k, v in parse_qs(text).items()}


@responses.activate
def test_jwt_bearer_posts_signed_assertion(private_pem: bytes, public_pem: bytes) -> None:
    responses.post(TOKEN_URL, json=token_body())
    grant = JwtBearerGrant(
        client_id="3MVG9.client", username="int@acme.com", private_key=private_pem
    )

    session = grant.session()

    form = form_of(responses.calls[0])
    assert form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    claims = jwt.decode(form["assertion"], public_pem, algorithms=["RS256"], audience=LOGIN)
    assert claims["iss"] == "3MVG9.client"
    assert claims["sub"] == "int@acme.com"
    assert 0 < claims["exp"] - time.time() <= 181
    assert session.instance_url == "https://acme.my.salesforce.com"
    assert session.org_id == "00D5g000004xyzAEAQ"
    assert session.user_id == "0055g00000AbCdEAAV"
    assert session.issued_at == 1712693965000


@responses.activate
def test_jwt_audience_defaults_to_login_url_and_can_be_overridden(private_pem: bytes) -> None:
    test_url = "https://test.salesforce.com"
    responses.post(f"{test_url}/services/oauth2/token", json=token_body())
    grant = JwtBearerGrant(client_id="c", username="u", private_key=private_pem, login_url=test_url)
    grant.session()
    claims = jwt.decode(
        form_of(responses.calls[0])["assertion"], options={"verify_signature": False}
    )
    assert claims["aud"] == test_url


@responses.activate
def test_client_credentials_uses_basic_auth_on_my_domain() -> None:
    url = "https://acme.my.salesforce.com"
    responses.post(f"{url}/services/oauth2/token", json=token_body())
    grant = ClientCredentialsGrant(client_id="key", client_secret="s3cr3t", my_domain_url=url)

    grant.session()

    call = responses.calls[0]
    assert form_of(call) == {"grant_type": "client_credentials"}
    assert str(call.request.headers["Authorization"]).startswith("Basic ")


def test_client_credentials_rejects_login_domain() -> None:
    with pytest.raises(ValueError, match="My Domain"):
        ClientCredentialsGrant(client_id="k", client_secret="s", my_domain_url=LOGIN)


@responses.activate
def test_refresh_token_grant_form() -> None:
    responses.post(TOKEN_URL, json=token_body())
    grant = RefreshTokenGrant(client_id="cid", refresh_token="5Aep-refresh", client_secret="cs")
    grant.session()
    assert form_of(responses.calls[0]) == {
        "grant_type": "refresh_token",
        "client_id": "cid",
        "refresh_token": "5Aep-refresh",
        "client_secret": "cs",
    }


@responses.activate
def test_password_grant_form() -> None:
    responses.post(TOKEN_URL, json=token_body())
    grant = PasswordGrant(client_id="cid", client_secret="cs", username="u@x", password="pw+tok")
    grant.session()
    form = form_of(responses.calls[0])
    assert form["grant_type"] == "password"
    assert form["username"] == "u@x"
    assert form["password"] == "pw+tok"


@responses.activate
def test_session_is_cached_and_refresh_replaces_it() -> None:
    responses.post(TOKEN_URL, json=token_body("t1"))
    responses.post(TOKEN_URL, json=token_body("t2"))
    grant = PasswordGrant(client_id="c", client_secret="s", username="u", password="p")
    assert grant.session().access_token == "t1"
    assert grant.session().access_token == "t1"
    assert grant.refresh(stale_token="t1").access_token == "t2"
    # a second thread reporting the same stale token does not refresh again
    assert grant.refresh(stale_token="t1").access_token == "t2"
    assert len(responses.calls) == 2


@responses.activate
def test_concurrent_refreshes_of_one_stale_token_fetch_once() -> None:
    responses.post(TOKEN_URL, json=token_body("t1"))
    responses.post(TOKEN_URL, json=token_body("t2"))
    grant = PasswordGrant(client_id="c", client_secret="s", username="u", password="p")
    grant.session()
    seen: list[str] = []
    threads = [
        threading.Thread(target=lambda: seen.append(grant.refresh(stale_token="t1").access_token))
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == ["t2"] * 8
    assert len(responses.calls) == 2


@responses.activate
def test_token_endpoint_error_is_typed_and_secret_free() -> None:
    responses.post(
        TOKEN_URL,
        status=400,
        json={"error": "invalid_grant", "error_description": "authentication failure"},
    )
    grant = PasswordGrant(
        client_id="c", client_secret="cs-SECRET", username="u", password="pw-SECRET"
    )
    with pytest.raises(SalesforceAuthError) as info:
        grant.session()
    assert info.value.error == "invalid_grant"
    assert info.value.status_code == 400
    assert "SECRET" not in str(info.value)
    assert "SECRET" not in repr(info.value)


@responses.activate
def test_non_json_token_answer() -> None:
    responses.post(TOKEN_URL, status=502, body="<html>bad gateway</html>")
    grant = PasswordGrant(client_id="c", client_secret="s", username="u", password="p")
    with pytest.raises(SalesforceAuthError, match="invalid_response"):
        grant.session()


@responses.activate
def test_token_connection_failure() -> None:
    responses.post(TOKEN_URL, body=requests.ConnectionError("refused"))
    grant = PasswordGrant(client_id="c", client_secret="s", username="u", password="p")
    with pytest.raises(SalesforceConnectionError):
        grant.session()


def test_static_session_cannot_refresh() -> None:
    grant = StaticSessionGrant(SalesforceSession(access_token="tok", instance_url="https://x"))
    assert grant.session().access_token == "tok"
    with pytest.raises(SalesforceAuthError, match="refresh_unsupported"):
        grant.refresh(stale_token="tok")


def test_secrets_never_in_repr_or_str(private_pem: bytes) -> None:
    secrets = ["pw-SECRET", "cs-SECRET", "rt-SECRET", "tok-SECRET"]
    grants = [
        PasswordGrant(client_id="c", client_secret="cs-SECRET", username="u", password="pw-SECRET"),
        RefreshTokenGrant(client_id="c", refresh_token="rt-SECRET", client_secret="cs-SECRET"),
        ClientCredentialsGrant(
            client_id="c", client_secret="cs-SECRET", my_domain_url="https://a.my.salesforce.com"
        ),
        JwtBearerGrant(client_id="c", username="u", private_key=private_pem),
    ]
    session = SalesforceSession(
        access_token="tok-SECRET", instance_url="https://x", refresh_token="rt-SECRET"
    )
    texts = [repr(g) for g in grants] + [str(g) for g in grants] + [repr(session), str(session)]
    pem_line = private_pem.decode().splitlines()[1]
    for text in texts:
        assert pem_line not in text
        for secret in secrets:
            assert secret not in text
