"""The normalized record files every engine reads.

One layout for the three systems, so loaders (from the clients or from exports) write the same
columns and the engines never see a system's own shapes:

==============  ==========================================================================
``ref``         the PayTrace transaction id the record settles (Fusion ``PT-<id>`` receipt
                numbers and Salesforce ``Payment_ID__c`` are both accepted; the receipt prefix
                is stripped); empty when unknown: only fuzzy rules can then pair the record
``id``          the record's own id in its system (evidence only)
``kind``        ``payment`` or ``refund`` (refunds and credit memos net against ``ref``)
``amount_cents`` positive integer cents
``status``      ``captured``, ``refunded`` or ``failed`` (loaders map each system's words)
``day``         ``YYYY-MM-DD``
``customer``    the customer account (for fuzzy rules)
``invoice``     the invoice number (for fuzzy rules)
``batch``       PayTrace settlement batch number (empty elsewhere)
==============  ==========================================================================

Batch files have ``batch``, ``net_cents`` and ``count`` (the summary PayTrace reports).

The loaders also write the columns anomaly detection reads (the engines ignore them):
PayTrace records add ``at`` (creation time, ISO-8601 with offset), ``card_token`` (vault
customer id, else the masked card), ``last4`` and ``product``; Fusion records add
``unapplied_cents``; batch files add ``day`` (the settlement day).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path

from ._model import ReconcileInputError

__all__ = [
    "BATCH_COLUMNS",
    "BATCH_EXPORT_COLUMNS",
    "FUSION_EXPORT_COLUMNS",
    "INVOICE_COLUMNS",
    "KINDS",
    "PAYTRACE_EXPORT_COLUMNS",
    "RECORD_COLUMNS",
    "STATUSES",
    "amount_to_cents",
    "normalize_ref",
    "read_csv_rows",
    "record_format",
]

RECORD_COLUMNS: tuple[str, ...] = (
    "ref",
    "id",
    "kind",
    "amount_cents",
    "status",
    "day",
    "customer",
    "invoice",
    "batch",
)
BATCH_COLUMNS: tuple[str, ...] = ("batch", "net_cents", "count")
#: What :func:`export_paytrace` writes: the record columns plus the anomaly columns.
PAYTRACE_EXPORT_COLUMNS: tuple[str, ...] = (*RECORD_COLUMNS, "at", "card_token", "last4", "product")
#: What :func:`export_fusion` writes: the record columns plus ``unapplied_cents``.
FUSION_EXPORT_COLUMNS: tuple[str, ...] = (*RECORD_COLUMNS, "unapplied_cents")
#: What :func:`export_fusion_invoices` writes: one row per receivables invoice (amounts in
#: cents; ``balance_cents`` is what is still open).
INVOICE_COLUMNS: tuple[str, ...] = (
    "invoice",
    "id",
    "customer",
    "amount_cents",
    "balance_cents",
    "day",
    "due_day",
    "status",
    "currency",
)
#: What :func:`export_paytrace` writes into its batch file: the totals plus ``day``.
BATCH_EXPORT_COLUMNS: tuple[str, ...] = (*BATCH_COLUMNS, "day")
KINDS = frozenset({"payment", "refund"})
STATUSES = frozenset({"captured", "refunded", "failed"})


def amount_to_cents(value: Decimal | str, field: str) -> int:
    """Exact cents of a money value; more than two decimals is an input error."""
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise ReconcileInputError(field, f"{value!r} is not an amount") from exc
    cents = amount * 100
    if not cents.is_finite() or cents != cents.to_integral_value():
        raise ReconcileInputError(field, f"{value!r} is not a whole number of cents")
    return int(cents)


def normalize_ref(raw: str, prefix: str) -> str:
    ref = raw.strip()
    if prefix and ref.startswith(prefix):
        ref = ref[len(prefix) :]
    return ref


def record_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".csv", ".parquet"):
        return suffix[1:]
    raise ReconcileInputError(str(path), "must be a .csv or .parquet file")


def read_csv_rows(path: Path, columns: Iterable[str]) -> Iterator[Mapping[str, str]]:
    """Stream a record file's rows (pure Python; the fallback engine's reader)."""
    import csv

    wanted = tuple(columns)
    if not path.is_file():
        raise ReconcileInputError(str(path), "no such file")
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in wanted if c not in (reader.fieldnames or ())]
        if missing:
            raise ReconcileInputError(str(path), f"missing columns {', '.join(missing)}")
        yield from reader
