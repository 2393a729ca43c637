"""``client.exports``: transaction exports (``transactions/export/*``), including the lazy
date-range iterator."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, timedelta, tzinfo
from typing import Any, Literal, get_args

from paytrace_client._errors import PayTraceInputError
from paytrace_client._requester import CallKind, Requester, RequestOptions
from paytrace_client._wire import format_request_date
from paytrace_client.models import DEFAULT_EXPORT_TIMEZONE, ExportedTransaction
from paytrace_client.models._validate import positive_int

from ._base import Resource, put_text
from ._windows import date_windows

__all__ = ["ExportTransactionType", "Exports", "parse_transactions"]

#: The ``transaction_type`` filter values PayTrace documents.
ExportTransactionType = Literal[
    "SALE", "AUTHORIZATION", "STR/FWD", "REFUND", "VOID", "SETTLED", "PENDING", "DECLINED"
]
_TYPES: frozenset[str] = frozenset(get_args(ExportTransactionType))


def parse_transactions(data: Mapping[str, Any], tz: tzinfo) -> list[ExportedTransaction]:
    """The ``transactions[]`` of an export answer, timestamps read in ``tz``."""
    records: list[Any] = data.get("transactions") or []
    return [ExportedTransaction.model_validate(r, context={"tz": tz}) for r in records]


class Exports(Resource):
    """Reads only: safe to retry. ``tz`` is the zone PayTrace's export timestamps are in."""

    def __init__(self, requester: Requester, *, tz: tzinfo = DEFAULT_EXPORT_TIMEZONE) -> None:
        super().__init__(requester)
        self._tz = tz

    def transaction(
        self,
        transaction_id: int,
        *,
        include_bin: bool = False,
        options: RequestOptions | None = None,
    ) -> ExportedTransaction | None:
        """One transaction: ``transactions/export/by_id`` (``success: true`` with
        ``transactions[]``); ``None`` when PayTrace returns an empty list."""
        body: dict[str, Any] = {"transaction_id": positive_int(transaction_id, "transaction_id")}
        if include_bin:
            body["include_bin"] = True
        data = self._requester.call(
            "transactions/export/by_id", body, kind=CallKind.READ, options=options
        )
        found = parse_transactions(data, self._tz)
        return found[0] if found else None

    def transactions(
        self,
        start: date,
        end: date,
        *,
        transaction_type: ExportTransactionType | None = None,
        customer_id: str | None = None,
        transaction_id: int | None = None,
        include_bin: bool = False,
        including_text: str | None = None,
        window: timedelta = timedelta(days=1),
        options: RequestOptions | None = None,
    ) -> Iterator[ExportedTransaction]:
        """Transactions from ``start`` to ``end`` (inclusive dates):
        ``transactions/export/by_date_range`` (``success: true`` with ``transactions[]``).

        PayTrace does not page this endpoint, so the range is split into ``window``-sized
        pieces, each requested only when iteration reaches it; stop iterating and no further
        request is made. Arguments are validated now, before the first ``next()``.
        """
        windows = date_windows(start, end, window)
        filters: dict[str, Any] = {}
        if transaction_type is not None:
            if transaction_type not in _TYPES:
                raise PayTraceInputError(
                    "transaction_type", f"must be one of {', '.join(sorted(_TYPES))}"
                )
            filters["transaction_type"] = transaction_type
        put_text(filters, "customer_id", customer_id)
        if transaction_id is not None:
            filters["transaction_id"] = positive_int(transaction_id, "transaction_id")
        if include_bin:
            filters["include_bin"] = True
        put_text(filters, "including_text", including_text)
        return self._iterate(windows, filters, options)

    def _iterate(
        self,
        windows: Iterator[tuple[date, date]],
        filters: dict[str, Any],
        options: RequestOptions | None,
    ) -> Iterator[ExportedTransaction]:
        for first, last in windows:
            body = {
                "start_date": format_request_date(first),
                "end_date": format_request_date(last),
                **filters,
            }
            data = self._requester.call(
                "transactions/export/by_date_range", body, kind=CallKind.READ, options=options
            )
            yield from parse_transactions(data, self._tz)
