"""Authentication strategies, one class per scheme.

Each is a :class:`requests.auth.AuthBase` that sets ``Authorization`` on every request. Token
strategies cache their token and renew it ``refresh_margin`` before it expires, under a lock
so that many threads share one token; :meth:`FusionAuth.invalidate` forces a renewal (the
client calls it once after a 401). Secrets, keys and tokens never appear in ``repr``/``str``
or in exception messages.
"""

from __future__ import annotations

import base64
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, cast

import requests
from requests.auth import AuthBase

from ._errors import FusionAuthError, FusionConnectionError, FusionInputError
from ._keys import SigningKey, epoch

__all__ = [
    "BasicAuth",
    "BearerTokenAuth",
    "ClientAssertion",
    "ClientSecret",
    "FusionAuth",
    "FusionJWTAuth",
    "IDCSClientCredentialsAuth",
    "IDCSUserAssertionAuth",
    "fusion_scope",
]

JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
IDCS_AUDIENCE = "https://identity.oraclecloud.com/"
Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def fusion_scope(instance_id: str) -> str:
    """The identity-domain scope of a Fusion instance (no space between the two URNs)."""
    return f"urn:opc:resource:fa:instanceid={instance_id}urn:opc:resource:consumer::all"


class FusionAuth(AuthBase):
    """Base of every strategy: ``authorization()`` gives the header value."""

    def authorization(self) -> str:
        raise NotImplementedError

    def invalidate(self) -> None:
        """Forget any cached token (no-op for static credentials)."""

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = self.authorization()
        return r


class BasicAuth(FusionAuth):
    """HTTP Basic with a Fusion user name and password (sandboxes, simple integrations)."""

    def __init__(self, username: str, password: str) -> None:
        self.username = username
        self._password = password

    def authorization(self) -> str:
        raw = f"{self.username}:{self._password}".encode()
        return "Basic " + base64.b64encode(raw).decode("ascii")

    def __repr__(self) -> str:
        return f"BasicAuth(username={self.username!r}, password=<redacted>)"


class BearerTokenAuth(FusionAuth):
    """A token obtained elsewhere (for example Fusion's ``/fscmRestApi/tokenrelay``)."""

    def __init__(self, token: str) -> None:
        self._token = token

    def authorization(self) -> str:
        return f"Bearer {self._token}"

    def __repr__(self) -> str:
        return "BearerTokenAuth(token=<redacted>)"


class _CachedTokenAuth(FusionAuth):
    """A token renewed ``refresh_margin`` before expiry; thread-safe."""

    def __init__(self, *, refresh_margin: timedelta, clock: Clock) -> None:
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at: datetime | None = None
        self._refresh_margin = refresh_margin
        self._clock = clock
        self.tokens_issued = 0

    def _new_token(self) -> tuple[str, datetime]:
        raise NotImplementedError

    def token(self) -> str:
        with self._lock:
            now = self._clock()
            if (
                self._token is None
                or self._expires_at is None
                or now >= self._expires_at - self._refresh_margin
            ):
                self._token, self._expires_at = self._new_token()
                self.tokens_issued += 1
            return self._token

    @property
    def expires_at(self) -> datetime | None:
        return self._expires_at

    def invalidate(self) -> None:
        with self._lock:
            self._token = None
            self._expires_at = None

    def authorization(self) -> str:
        return f"Bearer {self.token()}"


class FusionJWTAuth(_CachedTokenAuth):
    """Fusion-native self-signed JWT (Security Console > API Authentication, 20D+).

    Claims: ``iss`` (the trusted issuer configured in Fusion), ``prn`` and ``sub`` (the Fusion
    user), ``aud`` (optional; the REST endpoint), ``iat``, ``exp`` and a unique ``jti``.
    Header ``x5t`` or ``kid`` from ``signing_key``.
    """

    def __init__(
        self,
        *,
        username: str,
        issuer: str,
        signing_key: SigningKey,
        audience: str | None = None,
        lifetime: timedelta = timedelta(hours=1),
        refresh_margin: timedelta = timedelta(seconds=60),
        clock: Clock = _utcnow,
    ) -> None:
        if lifetime <= refresh_margin:
            raise FusionInputError("lifetime must be longer than refresh_margin")
        super().__init__(refresh_margin=refresh_margin, clock=clock)
        self.username = username
        self.issuer = issuer
        self.audience = audience
        self.lifetime = lifetime
        self.signing_key = signing_key

    def _new_token(self) -> tuple[str, datetime]:
        now = self._clock()
        expires = now + self.lifetime
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "prn": self.username,
            "sub": self.username,
            "iat": epoch(now),
            "exp": epoch(expires),
            "jti": uuid.uuid4().hex,
        }
        if self.audience is not None:
            claims["aud"] = self.audience
        return self.signing_key.sign(claims), expires

    def __repr__(self) -> str:
        return (
            f"FusionJWTAuth(username={self.username!r}, issuer={self.issuer!r}, "
            f"signing_key={self.signing_key!r})"
        )


@dataclass(frozen=True)
class ClientSecret:
    """Confidential-client authentication with ``client_id`` and secret (HTTP Basic)."""

    client_id: str
    secret: str = field(repr=False)


@dataclass(frozen=True)
class ClientAssertion:
    """Client authentication by a self-signed assertion (``sub`` = ``iss`` = client id)."""

    client_id: str
    signing_key: SigningKey


ClientAuthentication = ClientSecret | ClientAssertion


class _IDCSAuth(_CachedTokenAuth):
    def __init__(
        self,
        *,
        token_url: str,
        client: ClientAuthentication,
        scope: str,
        session: requests.Session | None = None,
        timeout: float = 30.0,
        refresh_margin: timedelta = timedelta(seconds=60),
        clock: Clock = _utcnow,
    ) -> None:
        super().__init__(refresh_margin=refresh_margin, clock=clock)
        self.token_url = token_url
        self.client = client
        self.scope = scope
        self._session = session or requests.Session()
        self._timeout = timeout

    def _assertion(self, subject: str, issuer: str, key: SigningKey) -> str:
        now = self._clock()
        return key.sign(
            {
                "sub": subject,
                "iss": issuer,
                "aud": IDCS_AUDIENCE,
                "iat": epoch(now),
                "exp": epoch(now + timedelta(minutes=5)),
                "jti": uuid.uuid4().hex,
            }
        )

    def _grant(self) -> dict[str, str]:
        raise NotImplementedError

    def _new_token(self) -> tuple[str, datetime]:
        data = {**self._grant(), "scope": self.scope}
        auth: tuple[str, str] | None = None
        if isinstance(self.client, ClientSecret):
            auth = (self.client.client_id, self.client.secret)
        else:
            data["client_id"] = self.client.client_id
            data["client_assertion_type"] = CLIENT_ASSERTION_TYPE
            data["client_assertion"] = self._assertion(
                self.client.client_id, self.client.client_id, self.client.signing_key
            )
        try:
            response = self._session.post(
                self.token_url, data=data, auth=auth, timeout=self._timeout
            )
        except requests.RequestException as exc:
            raise FusionConnectionError(
                f"token request failed: {type(exc).__name__}",
                method="POST",
                url=self.token_url,
                sent=False,
            ) from None
        try:
            body: object = response.json()
        except ValueError:
            body = None
        payload = cast(dict[str, Any], body) if isinstance(body, dict) else {}
        token = payload.get("access_token")
        if response.status_code != 200 or not isinstance(token, str):
            code = payload.get("error")
            raise FusionAuthError(
                f"the identity domain refused the token request: {code or 'no error code'}",
                status_code=response.status_code,
                error_code=str(code) if code else None,
                detail=str(payload.get("error_description") or "") or None,
            )
        expires_in = float(payload.get("expires_in") or 3600)
        return token, self._clock() + timedelta(seconds=expires_in)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(token_url={self.token_url!r}, "
            f"client_id={self.client.client_id!r}, scope={self.scope!r})"
        )


class IDCSUserAssertionAuth(_IDCSAuth):
    """OAuth JWT-bearer grant with a user assertion signed by this client (``sub`` = user)."""

    def __init__(
        self,
        *,
        token_url: str,
        client: ClientAuthentication,
        username: str,
        user_signing_key: SigningKey,
        scope: str,
        session: requests.Session | None = None,
        timeout: float = 30.0,
        refresh_margin: timedelta = timedelta(seconds=60),
        clock: Clock = _utcnow,
    ) -> None:
        super().__init__(
            token_url=token_url,
            client=client,
            scope=scope,
            session=session,
            timeout=timeout,
            refresh_margin=refresh_margin,
            clock=clock,
        )
        self.username = username
        self.user_signing_key = user_signing_key

    def _grant(self) -> dict[str, str]:
        assertion = self._assertion(self.username, self.client.client_id, self.user_signing_key)
        return {"grant_type": JWT_BEARER_GRANT, "assertion": assertion}


class IDCSClientCredentialsAuth(_IDCSAuth):
    """OAuth client-credentials grant (the token acts as the application's Fusion user).

    Takes the keyword arguments of every IDCS grant: ``token_url``, ``client``, ``scope``,
    ``session``, ``timeout``, ``refresh_margin``, ``clock``.
    """

    def _grant(self) -> dict[str, str]:
        return {"grant_type": "client_credentials"}
