"""OAuth2 password grant at ``/oauth/token`` and bearer-token checks.

PayTrace's server looks like Rails + Doorkeeper, so error bodies and the
``WWW-Authenticate`` header follow Doorkeeper's wording; the invalid_grant description is
PayTrace's verbatim (reference 1).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from ._config import EmulatorConfig
from ._responses import Json
from ._state import State, Token

__all__ = ["INVALID_GRANT", "bearer_user", "issue_token"]

INVALID_GRANT = (
    "The provided authorization grant is invalid, expired, revoked, does not match the "
    "redirection URI used in the authorization request, or was issued to another client."
)
UNSUPPORTED_GRANT = "The authorization grant type is not supported by the authorization server."
EXPIRED_DESCRIPTION = "The access token expired"
INVALID_DESCRIPTION = "The access token is invalid"


def issue_token(
    state: State, config: EmulatorConfig, now: datetime, form: dict[str, str]
) -> tuple[int, Json]:
    """``(http_status, body)`` for a token request (form or JSON body, already flattened)."""
    if form.get("grant_type") != "password":
        return 400, {"error": "unsupported_grant_type", "error_description": UNSUPPORTED_GRANT}
    username = form.get("username", "")
    password = form.get("password", "")
    allowed = bool(username and password)
    if config.strict or username in config.users:
        # a known user's wrong password is refused even when any other login is accepted
        allowed = allowed and config.users.get(username) == password
    if not allowed:
        return 400, {"error": "invalid_grant", "error_description": INVALID_GRANT}
    # Same look as PayTrace's: three colon-separated hex parts.
    access_token = ":".join((secrets.token_hex(14), secrets.token_hex(17), secrets.token_hex(32)))
    lifetime = config.token_lifetime_seconds
    with state.lock:
        if len(state.tokens) > 10_000:  # long-running servers: forget expired tokens
            for key in [k for k, t in state.tokens.items() if t.expires_at <= now]:
                del state.tokens[key]
        state.tokens[access_token] = Token(
            access_token, username, now, now + timedelta(seconds=lifetime)
        )
    return 200, {
        "access_token": access_token,
        "token_type": "bearer",
        "expires_in": lifetime,
        "created_at": int(now.timestamp()),
    }


def presented_token(authorization: str) -> str:
    scheme, _, value = authorization.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def bearer_user(state: State, now: datetime, authorization: str) -> tuple[str | None, str]:
    """``(user, "")`` for a live token, else ``(None, error_description)``."""
    token = state.tokens.get(presented_token(authorization))
    if token is None:
        return None, INVALID_DESCRIPTION
    if token.expires_at <= now:
        return None, EXPIRED_DESCRIPTION
    return token.user, ""


def expire(state: State, now: datetime, authorization: str) -> None:
    """Fault injection: make the presented token expire right now."""
    with state.lock:
        token = state.tokens.get(presented_token(authorization))
        if token is not None:
            token.expires_at = now - timedelta(seconds=1)
