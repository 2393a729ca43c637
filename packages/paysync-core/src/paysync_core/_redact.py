"""Redaction of secrets and card data before anything is written to the ledger or audit trail.

Two rules, applied recursively to mappings, sequences and strings:

* a value whose **key** looks sensitive (password, token, secret, api key, authorization,
  private key, CSC/CVV/CVC, card number, PAN) is replaced by ``"<redacted>"``;
* in free text, ``key=value`` / ``"key": "value"`` pairs with such a key, and
  ``Bearer``/``Basic`` credentials, have the value replaced;
* any run of 13-19 digits (optionally separated by single spaces or dashes) that passes the
  Luhn check is replaced by ``"<redacted-pan>"`` wherever it appears, including inside longer
  strings and in integers.

Masked card numbers such as ``xxxxxxxxxxxx5439`` are kept: they are the only card form that
may be stored. The rule is deliberately greedy: a 13-19 digit identifier that happens to pass
Luhn is redacted too, which is why the ledger refuses (rather than silently alters) values that
must be stored verbatim — see :func:`ensure_no_sensitive_data`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from typing import cast

from ._errors import SensitiveDataError

__all__ = ["REDACTED", "REDACTED_PAN", "ensure_no_sensitive_data", "redact", "redact_text"]

REDACTED = "<redacted>"
REDACTED_PAN = "<redacted-pan>"

_SENSITIVE_KEY_PARTS = (
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "apikey",
    "authorization",
    "privatekey",
    "csc",
    "cvv",
    "cvc",
    "cardnumber",
    "creditcard",
    "accountnumber",
    "routingnumber",  # ACH: with the account number it names a bank account
)
_SENSITIVE_KEYS_EXACT = frozenset({"pan", "cc", "ccnumber", "card", "cvn", "pin", "dda"})
_PAN_CANDIDATE = re.compile(r"(?<![0-9])[0-9](?:[ -]?[0-9]){12,18}(?![0-9])")
# ``password=x``, ``"client_secret": "x"``, ``api-key: x`` inside free text (error messages).
_SECRET_ASSIGNMENT = re.compile(
    r"(?i)(?P<key>[\w-]*(?:password|passwd|passphrase|secret|token|api[_-]?key|authorization"
    r"|private[_-]?key|csc|cvv|cvc|card[_-]?number)[\w-]*)(?P<sep>[\"']?\s*[=:]\s*[\"']?)"
    r"(?P<value>(?:bearer\s+|basic\s+)?[^\s\"',;&]+)"
)
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}")
_NO_PAN_BELOW = 10**12
"""Integers of at most 12 digits cannot hold a PAN (13-19 digits)."""


def _normalise_key(key: str) -> str:
    return "".join(ch for ch in key.lower() if ch.isalnum())


@functools.lru_cache(maxsize=4096)  # a ledger sees few distinct keys, over and over
def is_sensitive_key(key: str) -> bool:
    """Whether a mapping key names a secret or card datum."""
    norm = _normalise_key(key)
    return norm in _SENSITIVE_KEYS_EXACT or any(part in norm for part in _SENSITIVE_KEY_PARTS)


def luhn_valid(digits: str) -> bool:
    """Luhn checksum of a string of digits."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _pan_replacement(match: re.Match[str]) -> str:
    digits = re.sub(r"[ -]", "", match.group(0))
    if 13 <= len(digits) <= 19 and luhn_valid(digits):
        return REDACTED_PAN
    return match.group(0)


def redact_text(text: str) -> str:
    """Replace PAN-looking digit runs, ``secret=value`` pairs and bearer credentials."""
    # Fast paths (the ledger redacts every audit detail): an assignment needs ``=`` or ``:``,
    # a credential its scheme word, and the assignment pattern's leading ``[\w-]*`` costs
    # quadratic time on long words such as idempotency keys, so only run it where it can match.
    assignment = "=" in text or ":" in text
    if not assignment and len(text) < 13:  # no PAN (13+ digits) nor credential (14+ chars)
        return text
    if assignment:
        text = _SECRET_ASSIGNMENT.sub(lambda m: f"{m['key']}{m['sep']}{REDACTED}", text)
    lowered = text.lower()  # (non-ASCII text: IGNORECASE also maps letters like U+017F to s)
    if not text.isascii() or "bearer" in lowered or "basic" in lowered:
        text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    if len(text) < 13:  # a PAN has at least 13 digits
        return text
    return _PAN_CANDIDATE.sub(_pan_replacement, text)


def redact(value: object) -> object:
    """A JSON-compatible copy of ``value`` with secrets and PANs removed.

    Mappings keep their keys (stringified); tuples and lists become lists; other objects
    (``Decimal``, ``datetime``, ...) are converted with ``str`` and then scanned as text.
    """
    kind = type(value)  # exact-type fast paths first: audit details are plain dicts and strs
    if kind is str:
        return redact_text(cast(str, value))
    if kind is dict:
        return _redact_mapping(cast(dict[object, object], value))
    if kind is int and -_NO_PAN_BELOW < cast(int, value) < _NO_PAN_BELOW:
        return value
    if value is None or isinstance(value, bool | float):
        return value
    if isinstance(value, int):
        text = str(value)
        return REDACTED_PAN if redact_text(text) != text else value
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return _redact_mapping(cast(Mapping[object, object], value))
    if isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        return [redact(item) for item in cast(Sequence[object], value)]
    return redact_text(str(value))


def _redact_mapping(value: Mapping[object, object]) -> dict[str, object]:
    """Keys kept (stringified), values of sensitive keys replaced, the others redacted."""
    out: dict[str, object] = {}
    for key, item in value.items():
        name = key if type(key) is str else str(key)
        if is_sensitive_key(name):
            out[name] = REDACTED
        elif type(item) is str:  # (inlined: most values of an audit detail are strings)
            out[name] = redact_text(item)
        else:
            out[name] = redact(item)
    return out


def ensure_no_sensitive_data(value: object, *, what: str) -> None:
    """Raise :class:`SensitiveDataError` if :func:`redact` would change ``value``.

    Used for data the engine must keep verbatim (a flow's input), where silently altering a
    value would corrupt the flow. The message never echoes the offending value.
    """
    if redact(value) != _plain(value):
        raise SensitiveDataError(
            f"{what} contains a secret-like key or a PAN-like number; store a reference "
            "(vault id, masked number) instead"
        )


def _plain(value: object) -> object:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in cast(Mapping[object, object], value).items()}
    if isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        return [_plain(v) for v in cast(Sequence[object], value)]
    return str(value)
