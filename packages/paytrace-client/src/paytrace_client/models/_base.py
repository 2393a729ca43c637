"""Base classes and field types of the response models.

Responses are parsed leniently (``extra="allow"``: a field PayTrace adds tomorrow is kept, not
rejected) and frozen (a response is a record of what happened). Money is always ``Decimal``;
JSON numbers arrive as floats, so they are converted through their shortest ``repr`` (``2.5``
-> ``Decimal("2.5")``), never through the binary value.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationInfo

from paytrace_client._wire import parse_export_timestamp

__all__ = [
    "DEFAULT_EXPORT_TIMEZONE",
    "ExportTimestamp",
    "Money",
    "PayTraceResponse",
    "ResponseModel",
]

#: PayTrace (Spokane, WA) writes export timestamps in local time without a zone. Override per
#: parse with ``Model.model_validate(data, context={"tz": zone})``; the client passes its own.
DEFAULT_EXPORT_TIMEZONE: tzinfo = ZoneInfo("America/Los_Angeles")


def _to_decimal(value: object) -> object:
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, str):
        text = value.strip().replace(",", "").removeprefix("$")
        try:
            return Decimal(text)
        except InvalidOperation:
            return value  # let pydantic report the original text
    return value


def _context_tz(info: ValidationInfo) -> tzinfo:
    context: object = info.context
    if isinstance(context, dict):
        tz: object = context.get("tz")  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
        if isinstance(tz, tzinfo):
            return tz
    return DEFAULT_EXPORT_TIMEZONE


def _to_datetime(value: object, info: ValidationInfo) -> object:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None  # an unsettled transaction has an empty ``settled``
    if isinstance(value, str):
        return parse_export_timestamp(value, tz=_context_tz(info))
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=_context_tz(info))
    return value


#: A dollar amount from PayTrace (string or JSON number), as ``Decimal``.
Money = Annotated[Decimal, BeforeValidator(_to_decimal)]
#: ``M/D/YYYY h:mm:ss AM/PM`` in the parse context's zone, as an aware ``datetime``.
ExportTimestamp = Annotated[datetime | None, BeforeValidator(_to_datetime)]


class ResponseModel(BaseModel):
    """Lenient, immutable base of every response model."""

    model_config = ConfigDict(extra="allow", frozen=True, coerce_numbers_to_str=True)

    def to_dict(self) -> dict[str, Any]:
        """The model as JSON-compatible data, with PayTrace's own key names."""
        return self.model_dump(mode="json", by_alias=True)


class PayTraceResponse(ResponseModel):
    """The fields of every v1 answer (PayTrace's ``PayTraceBasicResponse``). Only successes are
    parsed into models; failures, declines and auto-voids (103) are raised as exceptions by
    the client, so ``success`` is true here."""

    success: bool
    response_code: int
    status_message: str = ""
