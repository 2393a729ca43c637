"""Access tokens: one class per way of getting one, and a thread-safe cache.

PayTrace v1 uses the OAuth2 resource-owner password grant at ``POST /oauth/token`` and issues
bearer tokens for 7200 s with no refresh token, so "refresh" means asking again with the
password. That is three lines of HTTP; a general OAuth library would add a dependency and
its own retry and refresh semantics (authlib's auto-refresh needs a refresh token or the
client-credentials grant), so the grant is written here, with the client's session, timeouts
and retry rules.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from ._errors import PayTraceAuthError

__all__ = ["AccessToken", "Grant", "PasswordGrant", "StaticToken", "TokenCache"]

_NEVER = datetime.max.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class AccessToken:
    """A bearer token and when it stops working. The value never shows in ``repr``."""

    value: str = field(repr=False)
    expires_at: datetime

    def expires_within(self, margin: timedelta, now: datetime) -> bool:
        return now + margin >= self.expires_at


class Grant(Protocol):
    """A way to obtain an access token."""

    def token_request(self) -> Mapping[str, str] | None:
        """The form fields to POST to ``/oauth/token``, or None if no request is needed."""
        ...

    def static_token(self) -> AccessToken | None:
        """A token known without asking PayTrace (for :class:`StaticToken`)."""
        ...


@dataclass(frozen=True)
class PasswordGrant:
    """The PayTrace API user's credentials (OAuth2 password grant)."""

    username: str
    password: str = field(repr=False)

    def __post_init__(self) -> None:
        if not self.username:
            raise ValueError("username must not be empty")
        if not self.password:
            raise ValueError("password must not be empty")

    def token_request(self) -> Mapping[str, str]:
        return {"grant_type": "password", "username": self.username, "password": self.password}

    def static_token(self) -> AccessToken | None:
        return None


@dataclass(frozen=True)
class StaticToken:
    """A token obtained elsewhere (for example by a central token service).

    When PayTrace refuses it, the call fails with :class:`PayTraceAuthError`; there is nothing
    to refresh it with.
    """

    value: str = field(repr=False)
    expires_at: datetime = _NEVER

    def token_request(self) -> None:
        return None

    def static_token(self) -> AccessToken:
        return AccessToken(self.value, self.expires_at)


TokenFetcher = Callable[[Mapping[str, str]], Mapping[str, Any]]


class TokenCache:
    """Holds the current token; fetches a new one when it is missing, about to expire, or was
    refused. Thread-safe: concurrent callers wait for one fetch instead of each making one.
    """

    def __init__(
        self,
        grant: Grant,
        fetch: TokenFetcher,
        *,
        clock: Callable[[], datetime],
        refresh_margin: timedelta = timedelta(seconds=120),
    ) -> None:
        self._grant = grant
        self._fetch = fetch
        self._clock = clock
        self._margin = refresh_margin
        self._lock = threading.Lock()
        self._token: AccessToken | None = grant.static_token()

    def __repr__(self) -> str:
        expiry = self._token.expires_at.isoformat() if self._token else None
        return f"TokenCache(grant={self._grant!r}, expires_at={expiry!r})"

    def get(self) -> AccessToken:
        with self._lock:
            token = self._token
            if token is None or token.expires_within(self._margin, self._clock()):
                token = self._token = self._acquire()
            return token

    def invalidate(self, refused: AccessToken) -> None:
        """Forget ``refused`` unless another thread has already replaced it."""
        with self._lock:
            if self._token is refused and self._grant.token_request() is not None:
                self._token = None

    def can_refresh(self) -> bool:
        return self._grant.token_request() is not None

    def _acquire(self) -> AccessToken:
        request = self._grant.token_request()
        if request is None:
            static = self._grant.static_token()
            if static is None:  # pragma: no cover - a Grant must provide one or the other
                raise PayTraceAuthError("no way to obtain a token", status_code=0)
            return static
        issued_at = self._clock()
        body = self._fetch(request)
        value = body.get("access_token")
        if not isinstance(value, str) or not value:
            raise PayTraceAuthError("token response without access_token", status_code=200)
        lifetime = body.get("expires_in", 7200)
        seconds = lifetime if isinstance(lifetime, int | float) else 7200
        # Measured from before the request, so network time can only make us refresh early.
        return AccessToken(value, issued_at + timedelta(seconds=float(seconds)))
