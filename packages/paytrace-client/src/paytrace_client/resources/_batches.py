"""``client.batches``: settlement batch exports (``batches/*``)."""

from __future__ import annotations

from datetime import date, tzinfo
from typing import Any

from paytrace_client._requester import CallKind, Requester, RequestOptions
from paytrace_client._wire import format_request_date
from paytrace_client.models import DEFAULT_EXPORT_TIMEZONE, Batch, ExportedTransaction
from paytrace_client.models._validate import positive_int

from ._base import Resource
from ._exports import parse_transactions
from ._windows import check_date_range

__all__ = ["Batches"]


class Batches(Resource):
    """Reads only: safe to retry. ``tz`` is the zone PayTrace's export timestamps are in."""

    def __init__(self, requester: Requester, *, tz: tzinfo = DEFAULT_EXPORT_TIMEZONE) -> None:
        super().__init__(requester)
        self._tz = tz

    def export_one(
        self, batch_number: int | None = None, *, options: RequestOptions | None = None
    ) -> Batch | None:
        """One batch summary, the latest when ``batch_number`` is None: ``batches/export_one``
        (``success: true`` with ``batch``); ``None`` if the answer carries no batch (an account
        that has never settled)."""
        body: dict[str, Any] = {}
        if batch_number is not None:
            body["batch_number"] = positive_int(batch_number, "batch_number")
        data = self._requester.call("batches/export_one", body, kind=CallKind.READ, options=options)
        batch: object = data.get("batch")
        if not isinstance(batch, dict):
            return None
        return Batch.model_validate(batch, context={"tz": self._tz})

    def export(
        self, start: date, end: date, *, options: RequestOptions | None = None
    ) -> list[Batch]:
        """Batch summaries settled from ``start`` to ``end`` (inclusive): ``batches/export``
        (``success: true`` with ``batches[]``)."""
        check_date_range(start, end)
        body = {"start_date": format_request_date(start), "end_date": format_request_date(end)}
        data = self._requester.call("batches/export", body, kind=CallKind.READ, options=options)
        batches: list[Any] = data.get("batches") or []
        return [Batch.model_validate(b, context={"tz": self._tz}) for b in batches]

    def transactions(
        self, batch_number: int, *, options: RequestOptions | None = None
    ) -> list[ExportedTransaction]:
        """The transactions settled in a batch: ``batches/transaction_list`` (``success: true``
        with ``transactions[]``)."""
        body = {"batch_number": positive_int(batch_number, "batch_number")}
        data = self._requester.call(
            "batches/transaction_list", body, kind=CallKind.READ, options=options
        )
        return parse_transactions(data, self._tz)
