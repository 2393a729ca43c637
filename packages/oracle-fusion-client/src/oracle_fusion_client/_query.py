"""Typed builders for the ADF REST query parameters: ``q``, ``finder`` and friends.

``q`` (REST-Framework-Version >= 2) is a row-match expression such as
``ReceiptNumber='R-1' and Amount>100``. Values are always written as literals by
:func:`q_literal`: strings in single quotes with an embedded quote doubled (SQL style,
which ADF's row-match grammar follows [inferred]), numbers, Decimals and dates bare. Attribute
names are checked against the ADF identifier pattern, so user input can never change the shape
of the expression. ``finder`` values follow the same quoting when they contain a separator.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from ._errors import FusionInputError

__all__ = ["Cond", "Query", "Value", "finder", "q_and", "q_literal", "q_or"]

Value = str | int | Decimal | date | datetime | bool
Operator = Literal["=", "!=", "<", "<=", ">", ">=", "LIKE"]
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_FINDER_SPECIAL = re.compile(r"[,;='\s]")
MAX_PAGE_SIZE = 500


def _check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise FusionInputError(f"not an ADF attribute name: {name!r}")
    return name


def q_literal(value: Value) -> str:
    """A ``q`` literal for ``value``; strings are quoted and escaped."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise FusionInputError("datetimes in q must be timezone-aware")
        return "'" + value.isoformat() + "'"
    if isinstance(value, date):
        return "'" + value.isoformat() + "'"
    return "'" + value.replace("'", "''") + "'"


@dataclass(frozen=True)
class Cond:
    """One comparison, ``Cond("ReceiptNumber", "=", "R-1")``."""

    attribute: str
    op: Operator
    value: Value

    def __str__(self) -> str:
        op = f" {self.op} " if self.op == "LIKE" else self.op
        return f"{_check_name(self.attribute)}{op}{q_literal(self.value)}"


def q_and(*conds: Cond | str) -> str:
    """Conditions joined with ``and`` (each parenthesised when composite)."""
    return _join("and", conds)


def q_or(*conds: Cond | str) -> str:
    """Conditions joined with ``or``."""
    return _join("or", conds)


def _join(word: str, conds: Sequence[Cond | str]) -> str:
    if not conds:
        raise FusionInputError("at least one condition is required")
    parts = [str(c) if isinstance(c, Cond) else f"({c})" for c in conds]
    return f" {word} ".join(parts)


def _finder_value(value: Value) -> str:
    if isinstance(value, str):
        return q_literal(value) if _FINDER_SPECIAL.search(value) or not value else value
    if isinstance(value, datetime | date | bool):
        return q_literal(value).strip("'")
    return str(value)


def finder(name: str, **variables: Value) -> str:
    """``Name;var=val,var2=val2`` with values quoted when they contain a separator."""
    head = _check_name(name)
    if not variables:
        return head
    body = ",".join(f"{_check_name(k)}={_finder_value(v)}" for k, v in variables.items())
    return f"{head};{body}"


@dataclass(frozen=True)
class Query:
    """The query parameters of a collection GET (and ``fields``/``expand`` of an item GET)."""

    q: str | Cond | None = None
    finder: str | None = None
    fields: Sequence[str] = ()
    expand: Sequence[str] = ()
    order_by: Sequence[tuple[str, Literal["asc", "desc"]]] = ()
    only_data: bool = True
    total_results: bool = False
    limit: int | None = None

    def __post_init__(self) -> None:
        if self.limit is not None and not 1 <= self.limit <= MAX_PAGE_SIZE:
            raise FusionInputError(f"limit must be between 1 and {MAX_PAGE_SIZE}")

    def params(self, *, offset: int | None = None) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.only_data:
            out["onlyData"] = "true"
        if self.q is not None:
            out["q"] = str(self.q)
        if self.finder is not None:
            out["finder"] = self.finder
        if self.fields:
            out["fields"] = ",".join(self.fields)
        if self.expand:
            out["expand"] = ",".join(self.expand)
        if self.order_by:
            out["orderBy"] = ",".join(f"{_check_name(a)}:{d}" for a, d in self.order_by)
        if self.total_results:
            out["totalResults"] = "true"
        if self.limit is not None:
            out["limit"] = str(self.limit)
        if offset is not None:
            out["offset"] = str(offset)
        return out


def merge_params(base: Mapping[str, str], extra: Mapping[str, str]) -> dict[str, str]:
    """Per-call parameters win over the defaults."""
    return {**base, **extra}
