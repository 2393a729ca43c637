"""Input columns: the reconciliation record files, plus what anomaly rules need.

Transactions are a PayTrace record file (:data:`paysync_core.reconcile.RECORD_COLUMNS`) with
one more required column and three optional ones:

=============  ===========================================================================
``at``         when the transaction was created, ISO-8601 with an offset
               (``2026-03-02T14:05:09+00:00``, ``...Z``, up to 6 fractional digits)
``card_token`` the vault / card token (duplicate detection); never a card number
``last4``      the card's last four digits (shown next to the token)
``product``    the product line (per-product outliers)
=============  ===========================================================================

Receipts are a Fusion record file with ``unapplied_cents`` (the receipt's ``UnappliedAmount``).
Batches are the reconciliation batch file (``batch``, ``net_cents``, ``count``) with an optional
``day`` (the settlement day, for the weekday baseline).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from paysync_core._redact import luhn_valid
from paysync_core.reconcile import BATCH_COLUMNS, RECORD_COLUMNS

from ._model import AnomalyInputError

__all__ = [
    "BATCH_FILE_COLUMNS",
    "OPTIONAL_TRANSACTION_COLUMNS",
    "RECEIPT_COLUMNS",
    "TRANSACTION_COLUMNS",
    "check_token",
    "epoch_us",
    "us_to_datetime",
]

TRANSACTION_COLUMNS: tuple[str, ...] = (*RECORD_COLUMNS, "at")
OPTIONAL_TRANSACTION_COLUMNS: tuple[str, ...] = ("card_token", "last4", "product")
RECEIPT_COLUMNS: tuple[str, ...] = (*RECORD_COLUMNS, "unapplied_cents")
BATCH_FILE_COLUMNS: tuple[str, ...] = BATCH_COLUMNS

# The one timestamp shape both engines accept (polars parses it with one format string).
_ISO = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,6}))?"
    r"(?:([+-])([0-9]{2}):([0-9]{2})|Z)"
)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_PAN_LIKE = re.compile(r"[0-9][0-9 -]{11,}[0-9]")


def epoch_us(value: str, field: str) -> int:
    """Microseconds since the epoch of an ISO-8601 timestamp with an offset."""
    match = _ISO.fullmatch(value.strip())
    if match is None:
        raise AnomalyInputError(field, f"{value!r} is not an ISO-8601 time with an offset")
    year, month, day, hour, minute, second, fraction, sign, off_h, off_m = match.groups()
    # Parsed by hand: Python 3.10's fromisoformat takes only 3 or 6 fractional digits.
    try:
        offset = timedelta(hours=int(off_h or 0), minutes=int(off_m or 0))
        moment = datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second),
            int((fraction or "0").ljust(6, "0")),
            tzinfo=timezone(-offset if sign == "-" else offset),
        )
    except ValueError as exc:
        raise AnomalyInputError(field, f"{value!r} is not a valid time") from exc
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def us_to_datetime(value: int) -> datetime:
    return datetime.fromtimestamp(value // 1_000_000, tz=timezone.utc).replace(
        microsecond=value % 1_000_000
    )


def check_token(token: str, field: str) -> None:
    """Refuse a card number where a token belongs; the message never echoes it."""
    if _PAN_LIKE.fullmatch(token):
        digits = re.sub(r"[ -]", "", token)
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            raise AnomalyInputError(field, "looks like a card number; use the vault token")
