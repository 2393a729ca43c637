"""OAuth 2.0 grants for Salesforce: one class per grant, each yielding a :class:`SalesforceSession`.

A grant caches its current session and refreshes it under a lock, so many threads share one
token and a burst of ``INVALID_SESSION_ID`` answers causes one token request, not many.
Secrets (passwords, client secrets, private keys, tokens) never appear in ``repr``/``str``.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import urlparse

import jwt
import requests
from requests.auth import HTTPBasicAuth

from ._errors import SalesforceAuthError, SalesforceConnectionError, SalesforceTimeoutError

__all__ = [
    "ClientCredentialsGrant",
    "JwtBearerGrant",
    "PasswordGrant",
    "RefreshTokenGrant",
    "SalesforceGrant",
    "SalesforceSession",
    "StaticSessionGrant",
]

LOGIN_URL = "https://login.salesforce.com"
_REDACTED = "<redacted>"
_JWT_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"


@dataclass(frozen=True)
class SalesforceSession:
    """An access token and where to use it. ``repr`` never shows the token."""

    access_token: str = field(repr=False)
    instance_url: str
    identity_url: str = ""
    refresh_token: str | None = field(default=None, repr=False)
    issued_at: int | None = None

    @property
    def org_id(self) -> str:
        """The org id (``00D...``) from the identity URL ``.../id/<org>/<user>``."""
        parts = urlparse(self.identity_url).path.rstrip("/").split("/")
        return parts[-2] if len(parts) >= 3 and parts[-3] == "id" else ""

    @property
    def user_id(self) -> str:
        """The user id (``005...``) from the identity URL."""
        parts = urlparse(self.identity_url).path.rstrip("/").split("/")
        return parts[-1] if len(parts) >= 3 and parts[-3] == "id" else ""

    def __str__(self) -> str:
        return f"SalesforceSession(instance_url={self.instance_url!r}, org_id={self.org_id!r})"


def _no_auth(request: requests.PreparedRequest) -> requests.PreparedRequest:
    """Explicit 'no auth' so a session-level auth never decorates token requests."""
    return request


class SalesforceGrant(ABC):
    """Base of all grants: caches the current session; :meth:`refresh` replaces it.

    ``http`` is the ``requests.Session`` used for the token request (so an emulator adapter or
    a proxy mounted on it applies); a private one is created when omitted.
    """

    def __init__(self, *, login_url: str = LOGIN_URL, timeout: float = 30.0) -> None:
        self.login_url = login_url.rstrip("/")
        self.timeout = timeout
        self._lock = threading.Lock()
        self._current: SalesforceSession | None = None

    @property
    def can_refresh(self) -> bool:
        """Whether :meth:`refresh` can obtain a new session."""
        return True

    @property
    def token_url(self) -> str:
        return f"{self.login_url}/services/oauth2/token"

    def session(self, http: requests.Session | None = None) -> SalesforceSession:
        """The cached session, fetching one on first use."""
        with self._lock:
            if self._current is None:
                self._current = self._fetch(http or requests.Session())
            return self._current

    def refresh(
        self, http: requests.Session | None = None, *, stale_token: str | None = None
    ) -> SalesforceSession:
        """Get a new session. With ``stale_token``, only if the cached one is still that token

        (another thread may have refreshed already; then its session is returned).
        """
        stale = stale_token
        with self._lock:
            current = self._current
            if stale and current is not None and current.access_token != stale:
                return current
            self._current = self._fetch(http or requests.Session())
            return self._current

    @abstractmethod
    def _token_request(self) -> tuple[dict[str, str], HTTPBasicAuth | None]:
        """The form fields (and optional HTTP Basic auth) of this grant's token request."""

    def _fetch(self, http: requests.Session) -> SalesforceSession:
        form, basic = self._token_request()
        try:
            response = http.post(
                self.token_url,
                data=form,
                auth=basic or _no_auth,
                headers={"Accept": "application/json"},
                timeout=self.timeout,
            )
        except requests.Timeout as exc:
            raise SalesforceTimeoutError(f"token request timed out: {self.token_url}") from exc
        except requests.RequestException as exc:
            msg = f"token request failed: {self.token_url}: {type(exc).__name__}"
            raise SalesforceConnectionError(msg) from exc
        return self._parse(response)

    def _parse(self, response: requests.Response) -> SalesforceSession:
        try:
            body: object = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise SalesforceAuthError(
                "invalid_response", f"HTTP {response.status_code}", status_code=response.status_code
            )
        data = cast("Mapping[str, Any]", body)
        if response.status_code != 200 or "access_token" not in data:
            raise SalesforceAuthError(
                str(data.get("error", "unknown_error")),
                str(data.get("error_description", "")),
                status_code=response.status_code,
            )
        issued = str(data.get("issued_at", ""))
        return SalesforceSession(
            access_token=str(data["access_token"]),
            instance_url=str(data.get("instance_url", "")).rstrip("/"),
            identity_url=str(data.get("id", "")),
            refresh_token=str(data["refresh_token"]) if data.get("refresh_token") else None,
            issued_at=int(issued) if issued.isdigit() else None,
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(login_url={self.login_url!r})"


class JwtBearerGrant(SalesforceGrant):
    """OAuth 2.0 JWT bearer flow: an RS256 assertion signed with the connected app's key."""

    def __init__(
        self,
        *,
        client_id: str,
        username: str,
        private_key: str | bytes,
        login_url: str = LOGIN_URL,
        audience: str | None = None,
        lifetime_seconds: int = 180,
        timeout: float = 30.0,
    ) -> None:
        super().__init__(login_url=login_url, timeout=timeout)
        self.client_id = client_id
        self.username = username
        self.audience = audience or self.login_url
        self.lifetime_seconds = lifetime_seconds
        self.__private_key = private_key

    def assertion(self) -> str:
        """The signed JWT (``iss``=client id, ``sub``=username, ``aud``, ``exp``)."""
        claims = {
            "iss": self.client_id,
            "sub": self.username,
            "aud": self.audience,
            "exp": int(time.time()) + self.lifetime_seconds,
        }
        return jwt.encode(claims, self.__private_key, algorithm="RS256")

    def _token_request(self) -> tuple[dict[str, str], HTTPBasicAuth | None]:
        return {"grant_type": _JWT_GRANT_TYPE, "assertion": self.assertion()}, None

    def __repr__(self) -> str:
        return (
            f"JwtBearerGrant(client_id={self.client_id!r}, username={self.username!r}, "
            f"login_url={self.login_url!r}, private_key={_REDACTED!r})"
        )


class ClientCredentialsGrant(SalesforceGrant):
    """Client credentials flow; needs the org's My Domain URL (not login/test)."""

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        my_domain_url: str,
        timeout: float = 30.0,
    ) -> None:
        host = urlparse(my_domain_url).hostname or ""
        if host in {"login.salesforce.com", "test.salesforce.com"}:
            raise ValueError("client credentials need the My Domain URL, not login/test")
        super().__init__(login_url=my_domain_url, timeout=timeout)
        self.client_id = client_id
        self.__client_secret = client_secret

    def _token_request(self) -> tuple[dict[str, str], HTTPBasicAuth | None]:
        return {"grant_type": "client_credentials"}, HTTPBasicAuth(
            self.client_id, self.__client_secret
        )

    def __repr__(self) -> str:
        return (
            f"ClientCredentialsGrant(client_id={self.client_id!r}, "
            f"my_domain_url={self.login_url!r}, client_secret={_REDACTED!r})"
        )


class RefreshTokenGrant(SalesforceGrant):
    """Refresh token flow: exchanges a stored refresh token for new access tokens."""

    def __init__(
        self,
        *,
        client_id: str,
        refresh_token: str,
        client_secret: str | None = None,
        login_url: str = LOGIN_URL,
        timeout: float = 30.0,
    ) -> None:
        super().__init__(login_url=login_url, timeout=timeout)
        self.client_id = client_id
        self.__refresh_token = refresh_token
        self.__client_secret = client_secret

    def _token_request(self) -> tuple[dict[str, str], HTTPBasicAuth | None]:
        form = {
            "grant_type": "refresh_token",
            "client_id": self.client_id,
            "refresh_token": self.__refresh_token,
        }
        if self.__client_secret is not None:
            form["client_secret"] = self.__client_secret
        return form, None

    def __repr__(self) -> str:
        return (
            f"RefreshTokenGrant(client_id={self.client_id!r}, login_url={self.login_url!r}, "
            f"refresh_token={_REDACTED!r})"
        )


class PasswordGrant(SalesforceGrant):
    """Username-password flow (``password`` is the password followed by the security token)."""

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        username: str,
        password: str,
        login_url: str = LOGIN_URL,
        timeout: float = 30.0,
    ) -> None:
        super().__init__(login_url=login_url, timeout=timeout)
        self.client_id = client_id
        self.username = username
        self.__client_secret = client_secret
        self.__password = password

    def _token_request(self) -> tuple[dict[str, str], HTTPBasicAuth | None]:
        return {
            "grant_type": "password",
            "client_id": self.client_id,
            "client_secret": self.__client_secret,
            "username": self.username,
            "password": self.__password,
        }, None

    def __repr__(self) -> str:
        return (
            f"PasswordGrant(client_id={self.client_id!r}, username={self.username!r}, "
            f"login_url={self.login_url!r}, password={_REDACTED!r})"
        )


class StaticSessionGrant(SalesforceGrant):
    """A session obtained elsewhere (e.g. the Salesforce CLI). It cannot refresh:

    a refresh raises :class:`SalesforceAuthError` so an expired token surfaces clearly.
    """

    def __init__(self, session: SalesforceSession) -> None:
        super().__init__(login_url=session.instance_url)
        self._current = session

    @property
    def can_refresh(self) -> bool:
        return False

    def _token_request(self) -> tuple[dict[str, str], HTTPBasicAuth | None]:
        raise SalesforceAuthError("refresh_unsupported", "a static session cannot be refreshed")

    def __repr__(self) -> str:
        return f"StaticSessionGrant(instance_url={self.login_url!r})"
