"""``POST /oauth2/v1/token``: the IDCS / OCI identity-domain token endpoint (reference §1).

Form-encoded; the client authenticates with HTTP Basic ``client_id:secret`` or with
``client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer`` and a
``client_assertion``. Grants: ``urn:ietf:params:oauth:grant-type:jwt-bearer`` (a user
assertion in ``assertion``) and ``client_credentials``. Assertions are RS256 with ``x5t``
or ``kid``, ``iss`` = client id, ``aud`` naming ``https://identity.oraclecloud.com/``,
``sub`` and a future ``exp``. Success is ``{"access_token","token_type":"Bearer",
"expires_in":3600}``; refusals are RFC 6749 ``{"error","error_description"}`` bodies
(``invalid_client`` 401, ``invalid_request``/``invalid_grant``/``unsupported_grant_type``/
``invalid_scope`` 400).

With no registered clients any well-formed request is accepted (signatures unchecked), like
the emulator's default authentication; registered clients make it strict.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

import jwt
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from oracle_fusion_client._keys import x5t_thumbprint

__all__ = ["IDCS_AUDIENCE", "TOKEN_PATH", "IdcsClient", "IdcsError", "token_response"]

TOKEN_PATH = "/oauth2/v1/token"  # noqa: S105 - a path, not a secret
IDCS_AUDIENCE = "https://identity.oraclecloud.com/"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
LIFETIME_SECONDS = 3600


@dataclass(frozen=True)
class IdcsClient:
    """A confidential application of the identity domain.

    ``secret`` for Basic client authentication; ``certificate_pem`` (its trusted
    certificate) verifies its client assertions and the user assertions it signs;
    ``scopes`` empty means any scope.
    """

    client_id: str
    secret: str | None = field(default=None, repr=False)
    certificate_pem: bytes | None = field(default=None, repr=False)
    scopes: tuple[str, ...] = ()


class IdcsError(Exception):
    """An OAuth error answer: HTTP status, ``error`` code and ``error_description``."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


def _invalid_client() -> IdcsError:
    return IdcsError(401, "invalid_client", "Client authentication failed.")


@dataclass(frozen=True)
class _Request:
    form: Mapping[str, str]
    authorization: str | None
    content_type: str
    now: datetime


def _basic(authorization: str | None) -> tuple[str, str] | None:
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, sep, secret = base64.b64decode(value.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise _invalid_client() from None
    if not sep or not user:
        raise _invalid_client()
    return user, secret


class _Endpoint:
    def __init__(self, clients: Sequence[IdcsClient], leeway: float) -> None:
        self.clients = {c.client_id: c for c in clients}
        self.leeway = leeway

    def authenticate_client(self, request: _Request) -> str:
        basic = _basic(request.authorization)
        if basic is not None:
            client_id, secret = basic
            if self.clients:
                client = self.clients.get(client_id)
                if client is None or client.secret is None or client.secret != secret:
                    raise _invalid_client()
            return client_id
        assertion_type = request.form.get("client_assertion_type")
        assertion = request.form.get("client_assertion")
        if assertion_type is None and assertion is None:
            raise _invalid_client()
        if assertion_type != CLIENT_ASSERTION_TYPE or not assertion:
            raise IdcsError(400, "invalid_request", "The client assertion type is not supported.")
        try:
            claims = self.verify(assertion, None, request.now)
        except IdcsError:
            raise _invalid_client() from None
        client_id = str(claims.get("iss") or "")
        if claims.get("sub") != client_id or (
            request.form.get("client_id") not in (None, client_id)
        ):
            raise _invalid_client()
        if self.clients:
            self.verify(assertion, self.clients.get(client_id), request.now, strict=True)
        return client_id

    def verify(
        self,
        token: str,
        client: IdcsClient | None,
        now: datetime,
        *,
        strict: bool = False,
    ) -> dict[str, Any]:
        """The claims of an assertion; ``strict`` also checks the signature with ``client``'s
        certificate (matched by ``x5t``, or any ``kid``)."""
        try:
            header = jwt.get_unverified_header(token)
            claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise IdcsError(400, "invalid_grant", "The assertion is not a valid JWT.") from None
        if header.get("alg") != "RS256":
            raise IdcsError(400, "invalid_grant", "The assertion must be signed with RS256.")
        if not header.get("x5t") and not header.get("kid"):
            raise IdcsError(400, "invalid_grant", "The assertion header needs x5t or kid.")
        for claim in ("sub", "iss", "exp"):
            if claims.get(claim) in (None, ""):
                raise IdcsError(400, "invalid_grant", f"The assertion has no {claim} claim.")
        audience = claims.get("aud")
        audiences = cast(list[object], audience) if isinstance(audience, list) else [audience]
        if IDCS_AUDIENCE not in audiences:
            raise IdcsError(
                400, "invalid_grant", f"The assertion audience must be {IDCS_AUDIENCE}."
            )
        try:
            expires = float(claims["exp"])
        except (TypeError, ValueError):
            raise IdcsError(400, "invalid_grant", "The assertion exp is not a number.") from None
        if expires + self.leeway < now.timestamp():
            raise IdcsError(400, "invalid_grant", "The assertion has expired.")
        if strict:
            self._check_signature(token, header, client)
        return claims

    @staticmethod
    def _check_signature(token: str, header: Mapping[str, Any], client: IdcsClient | None) -> None:
        if client is None or client.certificate_pem is None:
            raise IdcsError(400, "invalid_grant", "No trusted certificate for the assertion.")
        cert = x509.load_pem_x509_certificate(client.certificate_pem)
        x5t = str(header.get("x5t") or "")
        if x5t and x5t != x5t_thumbprint(cert):
            raise IdcsError(400, "invalid_grant", "The assertion x5t matches no certificate.")
        public_key = cert.public_key()
        if not isinstance(public_key, rsa.RSAPublicKey):
            raise IdcsError(400, "invalid_grant", "The trusted certificate has no RSA key.")
        try:
            jwt.decode(
                token,
                public_key,
                algorithms=["RS256"],
                options={"verify_exp": False, "verify_aud": False, "verify_iat": False},
            )
        except jwt.PyJWTError:
            raise IdcsError(400, "invalid_grant", "The assertion signature is invalid.") from None


def token_response(
    clients: Sequence[IdcsClient],
    *,
    form: Mapping[str, str],
    authorization: str | None,
    content_type: str,
    now: datetime,
    sign: Callable[[str, str, str], str],
    leeway: float = 30.0,
) -> tuple[str, str, dict[str, Any]]:
    """(user, scope, response body) of a granted request, or raise :class:`IdcsError`.

    ``sign(user, client_id, scope)`` makes the access token.
    """
    if not content_type.lower().startswith("application/x-www-form-urlencoded"):
        raise IdcsError(
            400, "invalid_request", "The request must be application/x-www-form-urlencoded."
        )
    request = _Request(form, authorization, content_type, now)
    endpoint = _Endpoint(clients, leeway)
    grant_type = form.get("grant_type")
    if not grant_type:
        raise IdcsError(400, "invalid_request", "The grant_type parameter is required.")
    client_id = endpoint.authenticate_client(request)
    client = endpoint.clients.get(client_id)
    if grant_type == JWT_BEARER:
        assertion = form.get("assertion")
        if not assertion:
            raise IdcsError(400, "invalid_request", "The assertion parameter is required.")
        claims = endpoint.verify(assertion, client, now, strict=bool(endpoint.clients))
        if claims.get("iss") != client_id:
            raise IdcsError(400, "invalid_grant", "The assertion issuer must be the client id.")
        user = str(claims["sub"])
    elif grant_type == "client_credentials":
        user = client_id
    else:
        raise IdcsError(
            400, "unsupported_grant_type", f"The grant type {grant_type} is not supported."
        )
    scope = form.get("scope", "").strip()
    if not scope or (client is not None and client.scopes and scope not in client.scopes):
        raise IdcsError(
            400, "invalid_scope", "The requested scope is invalid, unknown, or malformed."
        )
    token = sign(user, client_id, scope)
    body = {"access_token": token, "token_type": "Bearer", "expires_in": LIFETIME_SECONDS}
    return user, scope, body
