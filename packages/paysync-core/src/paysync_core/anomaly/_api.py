"""``detect_anomalies()``: pick an engine, run every enabled detector, sort the flags."""

from __future__ import annotations

from datetime import date, datetime, timezone
from os import PathLike
from pathlib import Path
from typing import Literal

from paysync_core.reconcile import ReconcileInputError, polars_available, record_format

from ._inputs import Inputs
from ._model import AnomalyFlag, AnomalyInputError
from ._rules import AnomalyRules

__all__ = ["AnomalyEngine", "detect_anomalies"]

AnomalyEngine = Literal["auto", "polars", "python"]
PathArg = str | PathLike[str]


def detect_anomalies(
    transactions: PathArg,
    receipts: PathArg | None = None,
    batches: PathArg | None = None,
    *,
    rules: AnomalyRules | None = None,
    engine: AnomalyEngine = "auto",
    now: datetime | None = None,
    start: date | None = None,
    end: date | None = None,
) -> list[AnomalyFlag]:
    """Flag anomalies in a PayTrace record file (and Fusion receipts, PayTrace batches).

    The files use the reconciliation layout plus the columns of :mod:`._schema`. ``start`` /
    ``end`` limit transactions (and dated batches) to those days; ``now`` (timezone-aware,
    default: the current time) dates the receipts' age. ``engine="auto"`` uses polars when
    installed; both engines return the same flags, sorted by kind, time and subject.
    """
    if engine not in ("auto", "polars", "python"):
        raise AnomalyInputError("engine", f"{engine!r} is not auto, polars or python")
    if now is not None and now.utcoffset() is None:
        raise AnomalyInputError("now", "must be timezone-aware")
    if start is not None and end is not None and start > end:
        raise AnomalyInputError("start", "is after end")
    moment = now or datetime.now(timezone.utc)
    today = moment.astimezone(timezone.utc).date()
    inputs = Inputs(
        Path(transactions),
        Path(receipts) if receipts is not None else None,
        Path(batches) if batches is not None else None,
        start,
        end,
    )
    try:
        if inputs.batches is not None and record_format(inputs.batches) != "csv":
            raise AnomalyInputError(str(inputs.batches), "the batch file must be CSV")
        flags = _run(inputs, rules or AnomalyRules(), engine, today)
    except AnomalyInputError:
        raise
    except ReconcileInputError as exc:
        # The shared CSV reader's errors, retyped so callers catch one kind of error.
        raise AnomalyInputError(exc.field, exc.problem) from None
    return sorted(flags, key=AnomalyFlag.sort_key)


def _run(
    inputs: Inputs, chosen: AnomalyRules, engine: AnomalyEngine, today: date
) -> list[AnomalyFlag]:
    if engine == "polars" or (engine == "auto" and polars_available()):
        if not polars_available():
            raise AnomalyInputError("engine", "polars is not installed: paysync-core[fast]")
        from ._polars import detect_polars

        return detect_polars(inputs, chosen, today)
    for path in (inputs.transactions, inputs.receipts):
        if path is not None and record_format(path) != "csv":
            raise AnomalyInputError(str(path), "Parquet input needs polars: paysync-core[fast]")
    from ._python import detect_python

    return detect_python(inputs, chosen, today)
