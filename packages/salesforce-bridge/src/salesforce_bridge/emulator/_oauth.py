"""The emulator's OAuth 2.0 token endpoint (all four grants), identity URL and userinfo.

Default mode accepts any well-formed request (as stripe-mock accepts any key). Strict mode
checks configured users and connected apps, and verifies JWT signatures against the app's
certificate.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from ._store import ORG_ID, make_id

__all__ = ["ConnectedApp", "EmulatorUser", "OAuthError", "TokenIssuer"]

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
_INVALID_LOGIN = "Invalid username, password, security token; or user locked out."
_AUDIENCES = ("https://login.salesforce.com", "https://test.salesforce.com")


@dataclass(frozen=True)
class EmulatorUser:
    """A user for strict mode."""

    username: str
    password: str = field(repr=False)
    # SOAP login sends password + security token in one field (simple-salesforce's default).
    security_token: str = field(default="", repr=False)


@dataclass(frozen=True)
class ConnectedApp:
    """A connected app for strict mode.

    ``certificate``: PEM of the X.509 certificate (or public key) that JWT assertions must be
    signed for. ``run_as``: the user a client-credentials token acts as.
    """

    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    certificate: str | bytes | None = None
    run_as: str | None = None


class OAuthError(Exception):
    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(error)
        self.status = status
        self.body = {"error": error, "error_description": description}


def _public_key(pem: str | bytes) -> RSAPublicKey:
    data = pem.encode() if isinstance(pem, str) else pem
    if b"CERTIFICATE" in data:
        key = x509.load_pem_x509_certificate(data).public_key()
    else:
        key = serialization.load_pem_public_key(data)
    if not isinstance(key, RSAPublicKey):
        raise ValueError("connected app certificate must hold an RSA key")
    return key


class TokenIssuer:
    """Issues, remembers and expires access tokens."""

    def __init__(
        self,
        *,
        strict: bool = False,
        users: Sequence[EmulatorUser] = (),
        apps: Sequence[ConnectedApp] = (),
        refresh_tokens: Mapping[str, str] | None = None,
    ) -> None:
        self.strict = strict
        self.users = {u.username: u for u in users}
        self.apps = {a.client_id: a for a in apps}
        self.refresh_tokens = dict(refresh_tokens or {})
        self._lock = threading.Lock()
        self.issued: dict[str, str] = {}  # access token -> username
        self.expired: set[str] = set()
        self.seen: set[str] = set()
        self._user_ids: dict[str, str] = {}
        self._signing_key = secrets.token_bytes(32)

    # -- sessions ---------------------------------------------------------------------------

    def user_id(self, username: str) -> str:
        with self._lock:
            if username not in self._user_ids:
                self._user_ids[username] = make_id("005", len(self._user_ids) + 1)
            return self._user_ids[username]

    def accepts(self, token: str | None) -> bool:
        """Whether ``token`` is a live session (any non-expired token unless strict)."""
        if not token:
            return False
        with self._lock:
            self.seen.add(token)
            if token in self.expired:
                return False
            return token in self.issued or not self.strict

    def expire_all(self) -> int:
        """Expire every token issued or seen so far; returns how many."""
        with self._lock:
            known = set(self.issued) | self.seen
            self.expired |= known
            return len(known)

    def revoke(self, token: str) -> None:
        with self._lock:
            self.expired.add(token)

    # -- token endpoint ---------------------------------------------------------------------

    def token(
        self, form: Mapping[str, str], basic: tuple[str, str] | None, base_url: str
    ) -> dict[str, Any]:
        grant = form.get("grant_type", "")
        if grant == "password":
            username = self._password(form)
        elif grant == JWT_GRANT:
            username = self._jwt(form.get("assertion", ""), base_url)
        elif grant == "client_credentials":
            username = self._client_credentials(form, basic)
        elif grant == "refresh_token":
            username = self._refresh(form)
        else:
            raise OAuthError(400, "unsupported_grant_type", "grant type not supported")
        return self._issue(username, base_url)

    def _issue(self, username: str, base_url: str) -> dict[str, Any]:
        token = f"{ORG_ID[:15]}!{secrets.token_urlsafe(32)}"
        issued_at = str(int(time.time() * 1000))
        identity = f"{base_url}/id/{ORG_ID}/{self.user_id(username)}"
        digest = hmac.new(self._signing_key, (identity + issued_at).encode(), hashlib.sha256)
        with self._lock:
            self.issued[token] = username
        return {
            "access_token": token,
            "instance_url": base_url,
            "id": identity,
            "token_type": "Bearer",
            "issued_at": issued_at,
            "signature": base64.b64encode(digest.digest()).decode(),
            "scope": "api",
        }

    def soap_login(self, username: str, password: str, base_url: str) -> dict[str, Any]:
        """SOAP ``login()``: ``password`` is the password with the security token appended."""
        if not username or not password:
            raise OAuthError(500, "INVALID_LOGIN", _INVALID_LOGIN)
        if self.strict:
            user = self.users.get(username)
            if user is None or user.password + user.security_token != password:
                raise OAuthError(500, "INVALID_LOGIN", _INVALID_LOGIN)
        return self._issue(username, base_url)

    def _app(self, client_id: str, secret: str | None, *, need_secret: bool) -> ConnectedApp | None:
        if not client_id:
            raise OAuthError(400, "invalid_client_id", "client identifier invalid")
        if not self.strict:
            return None
        app = self.apps.get(client_id)
        if app is None:
            raise OAuthError(400, "invalid_client_id", "client identifier invalid")
        if need_secret and (secret is None or app.client_secret != secret):
            raise OAuthError(400, "invalid_client", "invalid client credentials")
        return app

    def _password(self, form: Mapping[str, str]) -> str:
        username, password = form.get("username", ""), form.get("password", "")
        self._app(form.get("client_id", ""), form.get("client_secret"), need_secret=True)
        if not username or not password:
            raise OAuthError(400, "invalid_grant", "authentication failure")
        if self.strict:
            user = self.users.get(username)
            if user is None or user.password != password:
                raise OAuthError(400, "invalid_grant", "authentication failure")
        return username

    def _jwt(self, assertion: str, base_url: str) -> str:
        try:
            header = jwt.get_unverified_header(assertion)
            claims: dict[str, Any] = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise OAuthError(400, "invalid_grant", "invalid assertion") from None
        if header.get("alg") != "RS256" or not all(
            k in claims for k in ("iss", "sub", "aud", "exp")
        ):
            raise OAuthError(400, "invalid_grant", "invalid assertion")
        if float(claims["exp"]) < time.time():
            raise OAuthError(400, "invalid_grant", "expired authorization code")
        app = self._app(str(claims["iss"]), None, need_secret=False)
        if app is not None:
            if app.certificate is None:
                raise OAuthError(400, "invalid_grant", "invalid assertion")
            try:
                jwt.decode(
                    assertion,
                    _public_key(app.certificate),
                    algorithms=["RS256"],
                    audience=[*_AUDIENCES, base_url],
                )
            except jwt.PyJWTError:
                raise OAuthError(400, "invalid_grant", "invalid assertion") from None
            if str(claims["sub"]) not in self.users:
                raise OAuthError(400, "invalid_grant", "user hasn't approved this consumer")
        return str(claims["sub"])

    def _client_credentials(self, form: Mapping[str, str], basic: tuple[str, str] | None) -> str:
        client_id, secret = basic or (form.get("client_id", ""), form.get("client_secret", ""))
        app = self._app(client_id, secret, need_secret=True)
        if not secret:
            raise OAuthError(400, "invalid_client", "invalid client credentials")
        if app is not None and app.run_as is None:
            raise OAuthError(400, "invalid_grant", "no client credentials user enabled")
        return app.run_as if app is not None and app.run_as else f"integration@{client_id}"

    def _refresh(self, form: Mapping[str, str]) -> str:
        refresh = form.get("refresh_token", "")
        self._app(form.get("client_id", ""), form.get("client_secret"), need_secret=False)
        if not refresh:
            raise OAuthError(400, "invalid_grant", "expired access/refresh token")
        if self.strict:
            if refresh not in self.refresh_tokens:
                raise OAuthError(400, "invalid_grant", "expired access/refresh token")
            return self.refresh_tokens[refresh]
        return self.refresh_tokens.get(refresh, "refresh-user@example.com")

    def userinfo(self, token: str, base_url: str) -> dict[str, Any]:
        with self._lock:
            username = self.issued.get(token, "user@example.com")
        user_id = self.user_id(username)
        return {
            "sub": f"{base_url}/id/{ORG_ID}/{user_id}",
            "user_id": user_id,
            "organization_id": ORG_ID,
            "preferred_username": username,
            "username": username,
            "id": f"{base_url}/id/{ORG_ID}/{user_id}",
        }
