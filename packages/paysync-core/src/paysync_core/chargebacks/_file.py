"""The PayTrace dispute file: a CSV paysync reads because PayTrace v1 has no dispute API.

PayTrace reports chargebacks by email and in its web portal only; an operator exports (or
types) them into this documented CSV, one dispute per row, header first::

    case_number,transaction_id,amount,reason_code,dispute_date,reason
    CB-2026-0001,1000123,149.99,10.4,2026-03-05,Fraud - card absent

* ``case_number``   the acquirer's dispute case number (letters, digits, ``-`` ``_`` ``.``,
  at most 40): the correlation of every effect of the chargeback;
* ``transaction_id`` the PayTrace transaction disputed (a positive integer);
* ``amount``        the disputed amount in USD, positive, at most two decimals (``149.99``);
* ``reason_code``   the card network reason code (``10.4``, ``13.1``, ``4853`` ...);
* ``dispute_date``  ``YYYY-MM-DD`` or PayTrace's ``MM/DD/YYYY``;
* ``reason``        optional free text.

Every row is validated before anything is imported; all problems are reported at once, each
naming its line (the header is line 1) and column.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from paysync_core._errors import PaysyncError

from ._model import Chargeback

__all__ = [
    "DISPUTE_COLUMNS",
    "DisputeFileError",
    "DisputeRowError",
    "parse_dispute_file",
]

DISPUTE_COLUMNS = ("case_number", "transaction_id", "amount", "reason_code", "dispute_date")
_OPTIONAL = ("reason",)
_CASE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")
_REASON_CODE = re.compile(r"[A-Za-z0-9.]{1,10}")


@dataclass(frozen=True)
class DisputeRowError:
    line: int
    column: str
    problem: str

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}: {self.problem}"


class DisputeFileError(PaysyncError, ValueError):
    """The dispute file is not valid; ``errors`` lists every problem (nothing was imported)."""

    def __init__(self, errors: list[DisputeRowError]) -> None:
        self.errors = tuple(errors)
        shown = "; ".join(str(e) for e in self.errors[:10])
        more = f" (+{len(self.errors) - 10} more)" if len(self.errors) > 10 else ""
        super().__init__(f"dispute file has {len(self.errors)} error(s): {shown}{more}")


def _date(text: str) -> date:
    for layout in ("%Y-%m-%d", "%m/%d/%Y"):
        try:
            return datetime.strptime(text, layout).date()  # noqa: DTZ007 - a calendar date
        except ValueError:
            continue
    raise ValueError("must be a date as YYYY-MM-DD or MM/DD/YYYY")


def _amount(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a number") from None
    exponent = value.as_tuple().exponent
    if not value.is_finite() or value <= 0:
        raise ValueError("must be a positive amount")
    if isinstance(exponent, int) and exponent < -2:
        raise ValueError("has more than two decimal places")
    return value.quantize(Decimal("0.01"))


def _row(line: int, row: dict[str, str], errors: list[DisputeRowError]) -> Chargeback | None:
    values = {k: (row.get(k) or "").strip() for k in (*DISPUTE_COLUMNS, *_OPTIONAL)}
    before = len(errors)

    def fail(column: str, problem: str) -> None:
        errors.append(DisputeRowError(line, column, problem))

    for column in DISPUTE_COLUMNS:
        if not values[column]:
            fail(column, "is empty")
    if values["case_number"] and not _CASE.fullmatch(values["case_number"]):
        fail("case_number", "must be 1-40 letters, digits, '-', '_' or '.'")
    transaction_id = 0
    if values["transaction_id"]:
        if values["transaction_id"].isdigit() and int(values["transaction_id"]) > 0:
            transaction_id = int(values["transaction_id"])
        else:
            fail("transaction_id", f"{values['transaction_id']!r} is not a positive integer")
    amount = Decimal(0)
    if values["amount"]:
        try:
            amount = _amount(values["amount"])
        except ValueError as exc:
            fail("amount", str(exc))
    if values["reason_code"] and not _REASON_CODE.fullmatch(values["reason_code"]):
        fail("reason_code", "must be 1-10 letters, digits or '.'")
    day = date.min
    if values["dispute_date"]:
        try:
            day = _date(values["dispute_date"])
        except ValueError as exc:
            fail("dispute_date", str(exc))
    if len(errors) > before:
        return None
    return Chargeback(
        case_number=values["case_number"],
        transaction_id=str(transaction_id),
        amount=amount,
        reason_code=values["reason_code"],
        dispute_date=day,
        reason=values["reason"] or None,
    )


def parse_dispute_file(text: str) -> list[Chargeback]:
    """Every row of the file as a :class:`Chargeback`, or :class:`DisputeFileError`."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    errors = [
        DisputeRowError(1, column, "missing from the header")
        for column in DISPUTE_COLUMNS
        if column not in header
    ]
    if errors:
        raise DisputeFileError(errors)
    disputes: list[Chargeback] = []
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue  # blank line
        if None in row:
            errors.append(DisputeRowError(line, "-", "has more fields than the header"))
            continue
        dispute = _row(line, row, errors)
        if dispute is None:
            continue
        if dispute.case_number in seen:
            errors.append(
                DisputeRowError(
                    line, "case_number", f"repeats the case of line {seen[dispute.case_number]}"
                )
            )
            continue
        seen[dispute.case_number] = line
        disputes.append(dispute)
    if errors:
        raise DisputeFileError(errors)
    return disputes
