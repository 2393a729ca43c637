"""The emulator's own tokens: ``GET /fscmRestApi/tokenrelay`` (Fusion hands the signed-in
user a JWT, reference §1) and the access tokens of the emulated identity domain.

The answer is ``{"principal","expires_in","token_type":"JWT","access_token"}`` with
``expires_in`` in milliseconds (Oracle's example: 14400000 = 4 h). The token mirrors
Oracle's sample: RS256, header ``kid: trustservice`` and an ``x5t``, claims ``sub``/``prn``,
``iss: www.oracle.com``, ``iat``, ``exp``. The emulator signs with its own key and accepts
its own tokens as Bearer credentials, whatever the trusted-issuer policy says.
"""

from __future__ import annotations

import base64
import hashlib
import threading
import uuid
from datetime import datetime
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

__all__ = ["TOKEN_RELAY_PATH", "TokenRelay"]

TOKEN_RELAY_PATH = "/fscmRestApi/tokenrelay"  # noqa: S105 - a path, not a secret
ISSUER = "www.oracle.com"
#: the issuer of the access tokens the emulated identity domain hands out
IDCS_ISSUER = "https://identity.oraclecloud.com/"
LIFETIME_MS = 14_400_000


class TokenRelay:
    """Issues and verifies the emulator's own Fusion JWTs (the key is made on first use)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: rsa.RSAPrivateKey | None = None

    def _private_key(self) -> rsa.RSAPrivateKey:
        with self._lock:
            if self._key is None:
                self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            return self._key

    def _x5t(self) -> str:
        der = (
            self._private_key()
            .public_key()
            .public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        # a 27-character unpadded base64url SHA-1, the shape of Oracle's sample x5t
        return base64.urlsafe_b64encode(hashlib.sha1(der).digest()).rstrip(b"=").decode()  # noqa: S324

    def issue(self, user: str, now: datetime) -> dict[str, Any]:
        iat = int(now.timestamp())
        claims = {
            "exp": iat + LIFETIME_MS // 1000,
            "sub": user,
            "iss": ISSUER,
            "prn": user,
            "iat": iat,
        }
        headers = {"typ": "JWT", "x5t": self._x5t(), "kid": "trustservice"}
        token = jwt.encode(claims, self._private_key(), algorithm="RS256", headers=headers)
        return {
            "principal": user,
            "expires_in": LIFETIME_MS,
            "token_type": "JWT",
            "access_token": token,
        }

    def issue_idcs(self, user: str, client_id: str, scope: str, now: datetime) -> str:
        """An identity-domain access token for ``user`` (``sub``), valid one hour."""
        iat = int(now.timestamp())
        claims = {
            "sub": user,
            "iss": IDCS_ISSUER,
            "aud": [scope],
            "client_id": client_id,
            "scope": scope,
            "iat": iat,
            "exp": iat + 3600,
            "jti": uuid.uuid4().hex,
        }
        headers = {"typ": "JWT", "x5t": self._x5t(), "kid": "SIGNING_KEY"}
        return jwt.encode(claims, self._private_key(), algorithm="RS256", headers=headers)

    def user_of(self, authorization: str | None, now: datetime) -> str | None:
        """The user of a valid token the emulator issued, else None (the caller checks it).

        Expiry is judged by the emulator's clock ``now``, the clock that stamped the token.
        """
        if self._key is None or not authorization:
            return None
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        try:
            header = jwt.get_unverified_header(token.strip())
            if header.get("kid") not in {"trustservice", "SIGNING_KEY"}:
                return None
            claims: dict[str, Any] = jwt.decode(
                token.strip(),
                self._private_key().public_key(),
                algorithms=["RS256"],
                issuer=[ISSUER, IDCS_ISSUER],
                options={"require": ["exp", "iss"], "verify_aud": False, "verify_exp": False},
            )
        except jwt.PyJWTError:
            return None
        if float(claims["exp"]) < now.timestamp():
            return None
        return str(claims.get("prn") or claims.get("sub") or "") or None
