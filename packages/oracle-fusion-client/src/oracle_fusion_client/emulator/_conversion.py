"""Foreign-currency documents in the emulator: a receivables document in a currency other
than its business unit's ledger currency needs a conversion (rate type, date, rate).

Rules (Fusion's AR conversion, partly **[inferred]**): rate type ``User`` needs an explicit
``ConversionRate``; any other type takes the daily rate of ``currencyRates`` for the document
currency into the ledger currency on ``ConversionDate`` (default: the document date), and a
missing daily rate refuses the document. The accounted amount is the entered amount times the
rate, rounded half-even to cents **[inferred]**.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from ._state import ApiError, State, money, oracle_error
from ._views import RATES, refresh_currency_rates

__all__ = ["convert_document", "ledger_currency"]


def ledger_currency(state: State, business_unit: object) -> str | None:
    bu = state.business_unit(name=business_unit) or {}
    value = bu.get("LedgerCurrency")
    return str(value) if value else None


def convert_document(
    state: State, body: Mapping[str, Any], currency: str, document_date: date, amount: Decimal
) -> dict[str, Any] | None:
    """The conversion attributes of a document in ``currency``; ``None`` when it is in the
    ledger currency or names no rate type (the caller decides whether that is allowed)."""
    ledger = ledger_currency(state, body.get("BusinessUnit"))
    rate_type = body.get("ConversionRateType")
    if ledger is None or currency == ledger or not rate_type:
        return None
    raw_date = body.get("ConversionDate")
    try:
        when = date.fromisoformat(str(raw_date)) if raw_date else document_date
    except ValueError:
        raise ApiError(
            400, f"The value {raw_date!r} of ConversionDate isn't a date.", path="ConversionDate"
        ) from None
    if rate_type == "User":
        if body.get("ConversionRate") in (None, ""):
            raise oracle_error(
                "FND_CMN_REQ_ATTRIB_API_SERV",
                path="ConversionRate",
                ATTRIBUTE_NAME="ConversionRate",
            )
        rate = money(body["ConversionRate"], "ConversionRate")
    else:
        refresh_currency_rates(state)
        row = state.records[RATES].get(f"{currency}:{ledger}:{rate_type}:{when.isoformat()}")
        if row is None:
            raise ApiError(
                400,
                f"No {rate_type} conversion rate from {currency} to {ledger} exists for "
                f"{when.isoformat()}.",
                path="ConversionRateType",
            )
        rate = money(row["ConversionRate"], "ConversionRate")
    if rate <= 0:
        raise ApiError(400, "The conversion rate must be positive.", path="ConversionRate")
    return {
        "ConversionRateType": rate_type,
        "ConversionDate": when.isoformat(),
        "ConversionRate": rate,
        "AccountedAmount": (amount * rate).quantize(Decimal("0.01"), ROUND_HALF_EVEN),
    }
