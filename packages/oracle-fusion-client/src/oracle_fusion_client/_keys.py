"""RSA signing material for self-signed JWTs: a private key and its X.509 certificate.

The certificate is the one uploaded to Fusion's Security Console (API Authentication) or to the
identity domain; its SHA-1 thumbprint, base64url without padding, is the ``x5t`` header.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from os import PathLike
from pathlib import Path
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ._errors import FusionInputError

__all__ = ["SigningKey", "x5t_thumbprint"]


def x5t_thumbprint(certificate: x509.Certificate) -> str:
    """base64url (no padding) of the SHA-1 digest of the DER certificate: 27 characters."""
    der = certificate.public_bytes(serialization.Encoding.DER)
    digest = hashlib.sha1(der, usedforsecurity=False).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class SigningKey:
    """An RSA private key with either its certificate (``x5t`` header) or a ``kid``.

    The key never appears in ``repr``/``str``; only the thumbprint or key id does.
    """

    __slots__ = ("_key", "certificate", "kid", "x5t")

    def __init__(
        self,
        private_key: rsa.RSAPrivateKey,
        *,
        certificate: x509.Certificate | None = None,
        kid: str | None = None,
    ) -> None:
        if certificate is None and kid is None:
            raise FusionInputError("a certificate (for x5t) or a kid is required")
        self._key = private_key
        self.certificate = certificate
        self.kid = kid
        self.x5t = x5t_thumbprint(certificate) if certificate is not None else None

    @classmethod
    def from_pem(
        cls,
        private_key: bytes,
        certificate: bytes | None = None,
        *,
        password: bytes | None = None,
        kid: str | None = None,
    ) -> SigningKey:
        """From PEM bytes (the key may be encrypted with ``password``)."""
        try:
            key = serialization.load_pem_private_key(private_key, password=password)
        except (ValueError, TypeError) as exc:
            raise FusionInputError("the private key is not a readable PEM RSA key") from exc
        if not isinstance(key, rsa.RSAPrivateKey):
            raise FusionInputError("Fusion JWTs must be signed with an RSA key (RS256)")
        cert = None
        if certificate is not None:
            try:
                cert = x509.load_pem_x509_certificate(certificate)
            except ValueError as exc:
                raise FusionInputError("the certificate is not a readable PEM") from exc
        return cls(key, certificate=cert, kid=kid)

    @classmethod
    def from_pem_files(
        cls,
        private_key_path: str | PathLike[str],
        certificate_path: str | PathLike[str] | None = None,
        *,
        password: bytes | None = None,
        kid: str | None = None,
    ) -> SigningKey:
        """From PEM files."""
        cert = Path(certificate_path).read_bytes() if certificate_path is not None else None
        return cls.from_pem(Path(private_key_path).read_bytes(), cert, password=password, kid=kid)

    def headers(self) -> dict[str, str]:
        out = {"alg": "RS256", "typ": "JWT"}
        if self.x5t is not None:
            out["x5t"] = self.x5t
        if self.kid is not None:
            out["kid"] = self.kid
        return out

    def sign(self, claims: dict[str, Any]) -> str:
        """An RS256 compact JWT over ``claims``."""
        return jwt.encode(claims, self._key, algorithm="RS256", headers=self.headers())

    def __repr__(self) -> str:
        ident = f"x5t={self.x5t!r}" if self.x5t else f"kid={self.kid!r}"
        return f"SigningKey({ident}, private_key=<redacted>)"

    __str__ = __repr__


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())
