"""``client.level_three``: Level 2/3 enhanced data on Visa and MasterCard sales."""

from __future__ import annotations

from typing import Any

from paytrace_client._errors import PayTraceInputError
from paytrace_client._requester import CallKind, RequestOptions, WriteCorrelation
from paytrace_client.models import Level3Data, PayTraceResponse
from paytrace_client.models._validate import positive_int

from ._base import Resource

__all__ = ["LevelThree"]


class LevelThree(Resource):
    """Adds enhanced data to an approved, unsettled sale of the matching card brand."""

    def _add(
        self, path: str, transaction_id: int, data: Level3Data, options: RequestOptions | None
    ) -> PayTraceResponse:
        if not isinstance(data, Level3Data):  # pyright: ignore[reportUnnecessaryIsInstance] - runtime guard
            raise PayTraceInputError("level3", "must be Level3Data")
        txn = positive_int(transaction_id, "transaction_id")
        body: dict[str, Any] = {"transaction_id": txn, **data.to_wire()}
        correlation = WriteCorrelation(invoice_id=data.invoice_id, transaction_id=txn)
        result = self._requester.call(
            path, body, kind=CallKind.WRITE, correlation=correlation, options=options
        )
        return PayTraceResponse.model_validate(result)

    def visa(
        self, transaction_id: int, data: Level3Data, *, options: RequestOptions | None = None
    ) -> PayTraceResponse:
        """Visa enhanced data: ``level_three/visa``; added = 170."""
        return self._add("level_three/visa", transaction_id, data, options)

    def mastercard(
        self, transaction_id: int, data: Level3Data, *, options: RequestOptions | None = None
    ) -> PayTraceResponse:
        """MasterCard enhanced data: ``level_three/mastercard``; added = 170."""
        return self._add("level_three/mastercard", transaction_id, data, options)
