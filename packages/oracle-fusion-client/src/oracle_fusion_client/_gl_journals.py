"""GL journal batches: finding an imported journal again by its batch name.

Journal Import names each batch from ``REFERENCE1`` of its ``GlInterface.csv`` rows; the
batch name is how an integration finds its journal again after a lost answer. The REST
resource ``journalBatches`` and its attribute names are **[inferred]** (the reference notes
the resource but no public schema was found); the emulator serves the same shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from . import _gl_interface as columns
from ._errors import FusionInputError
from ._http import FusionHTTP
from ._query import Cond, Query

__all__ = ["GL_REFERENCE1_INDEX", "GlJournalBatch", "GlJournalBatches"]

#: ``REFERENCE1`` (the journal batch name) in a ``GlInterface.csv`` row.
GL_REFERENCE1_INDEX = columns.REFERENCE1


def _decimal(value: Any) -> Decimal:
    return Decimal(str(value)) if value is not None else Decimal(0)


@dataclass(frozen=True)
class GlJournalBatch:
    """One imported journal batch: its id, name, the ESS request that loaded it and totals."""

    batch_id: int
    name: str
    source: str
    status: str
    request_id: str
    line_count: int
    total_dr: Decimal
    total_cr: Decimal

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> GlJournalBatch:
        return cls(
            batch_id=int(item["JeBatchId"]),
            name=str(item["BatchName"]),
            source=str(item.get("JournalSource") or ""),
            status=str(item.get("Status") or ""),
            request_id=str(item.get("RequestId") or ""),
            line_count=int(item.get("LineCount") or 0),
            total_dr=_decimal(item.get("RunningTotalEnteredDr")),
            total_cr=_decimal(item.get("RunningTotalEnteredCr")),
        )


class GlJournalBatches:
    """``/journalBatches`` (read only)."""

    path = "journalBatches"

    def __init__(self, http: FusionHTTP) -> None:
        self._http = http

    def find_by_name(self, batch_name: str) -> list[GlJournalBatch]:
        """Every batch named ``batch_name`` (``GET ?q=BatchName='...'``); several means the
        journal was imported more than once."""
        if not batch_name.strip():
            raise FusionInputError("batch_name must not be empty")
        page = self._http.page(self.path, Query(q=Cond("BatchName", "=", batch_name), limit=25))
        return [GlJournalBatch.from_item(item) for item in page.items]
