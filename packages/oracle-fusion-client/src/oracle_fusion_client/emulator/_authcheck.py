"""Credential checks: lenient by default, strict when configured."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from oracle_fusion_client._keys import x5t_thumbprint

from ._state import ApiError

__all__ = ["AuthPolicy", "TrustedIssuer"]


@dataclass(frozen=True)
class TrustedIssuer:
    """An API Authentication entry of Security Console: issuer name and X.509 certificate."""

    issuer: str
    certificate_pem: bytes = field(repr=False)


def _unauthorized(detail: str) -> ApiError:
    return ApiError(401, detail, headers={"WWW-Authenticate": 'Bearer realm="fusion"'})


@dataclass(frozen=True)
class AuthPolicy:
    """``strict=False`` accepts any well-formed Basic or Bearer credentials (like stripe-mock).

    ``strict=True`` accepts Basic only for ``users`` and Bearer only for an RS256 JWT signed
    by a trusted issuer's certificate (matched by ``x5t``, tolerating ``+/=`` forms, or by
    ``kid`` = issuer), with that ``iss``, a ``prn`` or ``sub``, and an ``exp`` in the future;
    ``audience`` is checked when configured.
    """

    strict: bool = False
    users: Mapping[str, str] = field(default_factory=dict[str, str], repr=False)
    trusted_issuers: tuple[TrustedIssuer, ...] = ()
    audience: str | None = None
    leeway: float = 30.0

    def check(self, header: str | None) -> str:
        """The authenticated user name, or raise a 401 ApiError."""
        if not header:
            raise _unauthorized("Authentication is required.")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "basic":
            return self._basic(value.strip())
        if scheme.lower() == "bearer" and value.strip():
            return self._bearer(value.strip())
        raise _unauthorized("The authorization header is not well formed.")

    def _basic(self, value: str) -> str:
        try:
            user, sep, password = base64.b64decode(value, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise _unauthorized("The basic credentials are not well formed.") from None
        if not sep or not user:
            raise _unauthorized("The basic credentials are not well formed.")
        if self.strict and self.users.get(user) != password:
            raise _unauthorized("The user name or password is invalid.")
        return user

    def _bearer(self, token: str) -> str:
        try:
            header = jwt.get_unverified_header(token)
            claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            if self.strict:
                raise _unauthorized("The token is not a valid JWT.") from None
            return "bearer-user"
        user = str(claims.get("prn") or claims.get("sub") or "")
        if not self.strict:
            return user or "bearer-user"
        issuer = self._issuer_for(header, claims)
        public_key = x509.load_pem_x509_certificate(issuer.certificate_pem).public_key()
        if not isinstance(public_key, rsa.RSAPublicKey):
            raise _unauthorized("The trusted certificate has no RSA key.")
        try:
            verified: dict[str, Any] = jwt.decode(
                token,
                public_key,
                algorithms=["RS256"],
                issuer=issuer.issuer,
                audience=self.audience,
                leeway=self.leeway,
                options={"require": ["exp", "iss"], "verify_aud": self.audience is not None},
            )
        except jwt.ExpiredSignatureError:
            raise _unauthorized("The token has expired.") from None
        except jwt.PyJWTError as exc:
            raise _unauthorized(f"The token is invalid: {type(exc).__name__}.") from None
        user = str(verified.get("prn") or verified.get("sub") or "")
        if not user:
            raise _unauthorized("The token names no user (prn or sub).")
        return user

    def _issuer_for(self, header: Mapping[str, Any], claims: Mapping[str, Any]) -> TrustedIssuer:
        x5t = str(header.get("x5t") or "").replace("+", "-").replace("/", "_").rstrip("=")
        for trusted in self.trusted_issuers:
            if trusted.issuer != claims.get("iss"):
                continue
            cert = x509.load_pem_x509_certificate(trusted.certificate_pem)
            if (x5t and x5t == x5t_thumbprint(cert)) or header.get("kid") == trusted.issuer:
                return trusted
        raise _unauthorized("The token issuer or certificate is not trusted.")
