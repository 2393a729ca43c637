"""``reconcile()``: pick an engine and run it over three record files."""

from __future__ import annotations

import importlib.util
from os import PathLike
from pathlib import Path
from typing import Literal

from ._model import ReconcileInputError, ReconcileResult, ReconcileRules
from ._python import Inputs, reconcile_python
from ._schema import record_format

__all__ = ["Engine", "polars_available", "reconcile"]

Engine = Literal["auto", "polars", "python"]
PathArg = str | PathLike[str]


def polars_available() -> bool:
    return importlib.util.find_spec("polars") is not None


def reconcile(
    *,
    paytrace: PathArg,
    fusion: PathArg,
    salesforce: PathArg,
    batches: PathArg | None = None,
    rules: ReconcileRules | None = None,
    engine: Engine = "auto",
) -> ReconcileResult:
    """Reconcile PayTrace, Fusion and Salesforce record files (see :mod:`._schema`).

    ``engine="auto"`` uses polars when it is installed (``paysync-core[fast]``) and the
    pure-Python engine otherwise; both give the same result. Parquet input needs polars.
    """
    inputs = Inputs(
        Path(paytrace), Path(fusion), Path(salesforce), Path(batches) if batches else None
    )
    chosen = rules or ReconcileRules()
    if engine not in ("auto", "polars", "python"):
        raise ReconcileInputError("engine", f"{engine!r} is not auto, polars or python")
    fast = engine == "polars" or (engine == "auto" and polars_available())
    if fast:
        if not polars_available():
            raise ReconcileInputError("engine", "polars is not installed: paysync-core[fast]")
        from ._polars import reconcile_polars

        return reconcile_polars(inputs, chosen)
    for path in (inputs.paytrace, inputs.fusion, inputs.salesforce):
        if record_format(path) != "csv":
            raise ReconcileInputError(str(path), "Parquet input needs polars: paysync-core[fast]")
    return reconcile_python(inputs, chosen)
