"""Thresholds of every detector, one TOML table each (see ``ANOMALIES.md``).

    [duplicates]
    window_minutes = 10
    [outliers]
    z_threshold = 3.5

Every limit is strict on the "normal" side: a statistic equal to its threshold is not a flag.
Decimals have at most two places so both engines can compare in exact integer arithmetic.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from decimal import Decimal
from os import PathLike
from pathlib import Path
from typing import Any, cast

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ._model import AnomalyInputError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib  # pyright: ignore[reportMissingImports]

__all__ = [
    "AnomalyRules",
    "BatchRule",
    "DuplicateRule",
    "OutlierRule",
    "SpikeRule",
    "UnappliedRule",
]

_toml_loads = cast("Callable[[str], dict[str, Any]]", tomllib.loads)  # pyright: ignore[reportUnknownMemberType]
_TomlError = cast("type[ValueError]", tomllib.TOMLDecodeError)  # pyright: ignore[reportUnknownMemberType]


class _Rule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DuplicateRule(_Rule):
    """Charges on one card token for one amount, all within ``window_minutes`` of the first."""

    enabled: bool = True
    window_minutes: int = Field(default=10, ge=1, le=7 * 24 * 60)
    min_count: int = Field(default=2, ge=2)


class OutlierRule(_Rule):
    """Robust z-score ``0.6745 * |x - median| / MAD`` within a customer's or product line's
    captured payments, once the group has ``min_history`` of them.

    The MAD is floored at ``min_spread`` (money) and at ``min_spread_pct`` percent of the median:
    a customer who always pays the same amount has a MAD of zero, and a cent's difference must
    not read as an infinite z-score.
    """

    enabled: bool = True
    per_customer: bool = True
    per_product: bool = True
    z_threshold: Decimal = Field(default=Decimal("3.5"), gt=0, le=1000, decimal_places=2)
    min_history: int = Field(default=8, ge=3)
    min_spread: Decimal = Field(default=Decimal("1.00"), gt=0, le=10**9, decimal_places=2)
    min_spread_pct: int = Field(default=5, ge=0, le=100)


class SpikeRule(_Rule):
    """Declines (failed payments) and refunds per UTC hour against the trailing baseline.

    With ``n`` payments in the hour and a baseline rate ``D / N`` (events / payments over the
    previous ``baseline_hours``), the expected count is ``e = n * D / N`` and the hour is a spike
    when ``(events - e) / sqrt(e)`` exceeds ``z_threshold`` (a Poisson z-score). ``D`` is taken
    as at least 1 so a quiet baseline does not make every event infinitely surprising.
    """

    enabled: bool = True
    declines: bool = True
    refunds: bool = True
    baseline_hours: int = Field(default=24, ge=1, le=31 * 24)
    # 5, not the textbook 3: hours are many (720 a month) and low counts have a heavier
    # right tail than the normal approximation assumes.
    z_threshold: Decimal = Field(default=Decimal("5"), gt=0, le=1000, decimal_places=2)
    min_events: int = Field(default=10, ge=1)
    min_volume: int = Field(default=20, ge=1)
    min_baseline_volume: int = Field(default=100, ge=1)


class BatchRule(_Rule):
    """A batch's reported net against the sum of its transactions (beyond ``tolerance``), and
    against the mean of the previous ``weekday_history`` batches settled on the same weekday
    (beyond ``drift_pct`` percent, once ``min_history`` of them exist)."""

    enabled: bool = True
    tolerance: Decimal = Field(default=Decimal("0.00"), ge=0, le=10**9, decimal_places=2)
    weekday_history: int = Field(default=4, ge=1, le=52)
    min_history: int = Field(default=3, ge=1, le=52)
    drift_pct: int = Field(default=50, ge=1, le=10_000)


class UnappliedRule(_Rule):
    """Receipts with an unapplied amount more than ``max_age_days`` after their receipt date."""

    enabled: bool = True
    max_age_days: int = Field(default=30, ge=0, le=3660)


class AnomalyRules(_Rule):
    duplicates: DuplicateRule = DuplicateRule()
    outliers: OutlierRule = OutlierRule()
    spikes: SpikeRule = SpikeRule()
    batches: BatchRule = BatchRule()
    unapplied: UnappliedRule = UnappliedRule()

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> AnomalyRules:
        """Validate parsed TOML tables; the first problem raises naming its dotted field."""
        try:
            return cls.model_validate(dict(data))
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            field = ".".join(str(part) for part in first["loc"]) or "rules"
            raise AnomalyInputError(field, str(first["msg"])) from None

    @classmethod
    def from_toml(cls, source: str | PathLike[str]) -> AnomalyRules:
        """Rules from a TOML file (a path) or TOML text; a table ``[anomalies]`` is accepted
        too, so the rules can live in ``paysync.toml``."""
        path = Path(source)
        text = str(source)
        if not isinstance(source, str) or ("\n" not in text and path.suffix == ".toml"):
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise AnomalyInputError(str(path), f"cannot read: {exc.strerror}") from None
        try:
            data = _toml_loads(text)
        except _TomlError as exc:
            raise AnomalyInputError("rules", f"not valid TOML: {exc}") from None
        tables = data.get("anomalies", data)
        if not isinstance(tables, dict):
            raise AnomalyInputError("anomalies", "must be a table")
        return cls.from_mapping(cast("dict[str, Any]", tables))

    @classmethod
    def from_config(cls, path: str | PathLike[str]) -> AnomalyRules:
        """The ``[anomalies]`` table of ``paysync.toml``; the defaults when it has none (the
        rest of the file is the sync's configuration, not rules)."""
        file = Path(path)
        try:
            data = _toml_loads(file.read_text(encoding="utf-8"))
        except OSError as exc:
            raise AnomalyInputError(str(file), f"cannot read: {exc.strerror}") from None
        except _TomlError as exc:
            raise AnomalyInputError(str(file), f"not valid TOML: {exc}") from None
        tables = data.get("anomalies", {})
        if not isinstance(tables, dict):
            raise AnomalyInputError("anomalies", "must be a table")
        return cls.from_mapping(cast("dict[str, Any]", tables))
