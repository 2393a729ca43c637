"""Currency conversion: PayTrace settles in USD; a Fusion ledger may keep its books in another
currency (issue 8 §2).

The rule, :class:`CurrencyConversion`, is given the ledger currency configured for the Fusion
business unit / ledger (:class:`CurrencyConversionConfig`, default ``USD``):

* ledger currency = transaction currency (USD): no conversion, documents unchanged;
* otherwise the documents keep the transaction currency USD and carry the conversion: the
  Fusion GL daily rate ``USD -> ledger`` of ``conversion_type`` (default ``Corporate``) on the
  document's date, read from Fusion ``currencyRates`` at the time the step runs. Receipts and
  invoices get ``ConversionRateType`` / ``ConversionDate`` / ``ConversionRate``; GL journal
  lines get USER_CURRENCY_CONVERSION_TYPE / CURRENCY_CONVERSION_DATE / CURRENCY_CONVERSION_RATE
  and ACCOUNTED_DR / ACCOUNTED_CR.

Rounding: accounted amount = entered amount x rate, as :class:`~decimal.Decimal`, rounded
**half-even** (banker's rounding, ``ROUND_HALF_EVEN``) to the ledger currency's minor unit
(ISO 4217: 2 for most, 0 for JPY/KRW/..., 3 for BHD/KWD/...; overridable per currency). A
journal's accounted debits and credits are then made to balance: the rounding difference is
put on the largest line of the short side, and the explanation says so.

A missing rate never posts an amount: :class:`ConversionRateMissingError` is a
:class:`~paysync_core.RetryableError` (daily rates are loaded during the day) carrying the
pair, date and type as evidence; once the engine's retry policy is spent, the flow goes to the
dead-letter queue with that message.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from oracle_fusion_client import GlInterfaceLine
from paysync_core._errors import RetryableError
from paysync_core.canonical import Journal, JournalLine
from paysync_core.mapping._rules import Decision

__all__ = [
    "RATE_SOURCE",
    "AccountedLine",
    "Conversion",
    "ConversionRate",
    "ConversionRateMissingError",
    "CurrencyConversion",
    "CurrencyConversionConfig",
    "RateLookup",
    "convert_gl_lines",
    "currency_precision",
    "round_currency",
]

RATE_SOURCE = "Fusion currencyRates"

#: ISO 4217 minor units that are not 2 (the currencies a Fusion ledger is likely to use)
_MINOR_UNITS: Mapping[str, int] = {
    "JPY": 0,
    "KRW": 0,
    "CLP": 0,
    "ISK": 0,
    "VND": 0,
    "HUF": 2,
    "BHD": 3,
    "KWD": 3,
    "JOD": 3,
    "OMR": 3,
    "TND": 3,
}


def currency_precision(currency: str, overrides: Mapping[str, int] | None = None) -> int:
    """Decimal places of ``currency`` (``overrides`` first, then ISO 4217, else 2)."""
    if overrides and currency in overrides:
        return overrides[currency]
    return _MINOR_UNITS.get(currency, 2)


def round_currency(
    amount: Decimal, currency: str, overrides: Mapping[str, int] | None = None
) -> Decimal:
    """``amount`` rounded half-even to ``currency``'s minor unit."""
    exponent = Decimal(1).scaleb(-currency_precision(currency, overrides))
    return amount.quantize(exponent, rounding=ROUND_HALF_EVEN)


class CurrencyConversionConfig(BaseModel):
    """The ledger currency of the Fusion business unit / ledger and how to convert into it."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    ledger_currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    """Currency of the Fusion ledger; USD (PayTrace's currency) means no conversion."""
    conversion_type: str = Field(default="Corporate", min_length=1)
    """The Fusion daily rate type looked up in ``currencyRates``."""
    document_rate_type: Literal["User", "lookup"] = "User"
    """How documents carry the rate. ``User``: rate type ``User`` with the looked-up rate, so
    Fusion posts exactly the amounts explained here (Oracle's own foreign-currency credit memo
    example uses ``User`` + rate). ``lookup``: the looked-up type and date without a rate, and
    Fusion applies its daily rate itself, for setups that refuse a rate with a non-User type;
    the amounts agree unless the rate is reloaded in between."""
    missing_rate_retry_after: float = Field(default=900.0, ge=0)
    """Seconds before retrying a step whose rate is not loaded yet (the engine caps it)."""
    precision: Mapping[str, Annotated[int, Field(ge=0, le=6)]] = Field(
        default_factory=dict[str, int]
    )
    """Minor units per currency overriding ISO 4217 (e.g. ``{"HUF": 0}``)."""


@dataclass(frozen=True)
class ConversionRate:
    """One daily rate: ``rate`` multiplies a ``from_currency`` amount into ``to_currency``."""

    from_currency: str
    to_currency: str
    conversion_date: date
    conversion_type: str
    rate: Decimal
    source: str = RATE_SOURCE

    def explain(self) -> str:
        return (
            f"rate {self.rate} {self.conversion_type} {self.conversion_date.isoformat()} "
            f"from {self.source}"
        )


RateLookup = Callable[[str, str, date, str], ConversionRate]
"""``(from_currency, to_currency, conversion_date, conversion_type) -> rate``; raises
:class:`ConversionRateMissingError` when there is none."""


class ConversionRateMissingError(RetryableError):
    """No daily rate yet for the pair, date and type: nothing was posted; retry later."""

    def __init__(
        self,
        from_currency: str,
        to_currency: str,
        conversion_date: date,
        conversion_type: str,
        *,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(
            f"no {conversion_type} rate from {from_currency} to {to_currency} on "
            f"{conversion_date.isoformat()} in {RATE_SOURCE}: nothing posted (a rate loaded "
            "later in the day lets the retry succeed)",
            retry_after=retry_after,
        )
        self.from_currency = from_currency
        self.to_currency = to_currency
        self.conversion_date = conversion_date
        self.conversion_type = conversion_type


@dataclass(frozen=True)
class AccountedLine:
    """A journal line's ledger-currency amounts."""

    debit: Decimal
    credit: Decimal


@dataclass(frozen=True)
class Conversion:
    """The outcome of the rule: ``rate`` is ``None`` when no conversion applies."""

    transaction_currency: str
    ledger_currency: str
    rate: ConversionRate | None
    config: CurrencyConversionConfig

    def accounted(self, amount: Decimal) -> Decimal:
        """``amount`` in the ledger currency, rounded half-even to its minor unit."""
        if self.rate is None:
            return amount
        return round_currency(amount * self.rate.rate, self.ledger_currency, self.config.precision)

    def _rate_type(self) -> str:
        assert self.rate is not None
        if self.config.document_rate_type == "User":
            return "User"
        return self.rate.conversion_type

    def document_fields(self) -> dict[str, Any]:
        """``ConversionRateType`` / ``ConversionDate`` / ``ConversionRate`` of a receipt or an
        invoice (empty without a conversion)."""
        if self.rate is None:
            return {}
        fields: dict[str, Any] = {
            "ConversionRateType": self._rate_type(),
            "ConversionDate": self.rate.conversion_date,
        }
        if self.config.document_rate_type == "User":
            fields["ConversionRate"] = self.rate.rate
        return fields

    def gl_columns(self) -> tuple[str, date, Decimal | None] | None:
        """USER_CURRENCY_CONVERSION_TYPE, CURRENCY_CONVERSION_DATE, CURRENCY_CONVERSION_RATE."""
        if self.rate is None:
            return None
        rate = self.rate.rate if self.config.document_rate_type == "User" else None
        return self._rate_type(), self.rate.conversion_date, rate

    def accounted_lines(self, lines: Sequence[JournalLine]) -> Decision[list[AccountedLine]]:
        """Each line's accounted debit/credit; the two sides balanced after rounding."""
        if self.rate is None:
            return Decision(
                [AccountedLine(line.debit, line.credit) for line in lines],
                "no conversion: accounted = entered",
            )
        out = [
            AccountedLine(self.accounted(line.debit), self.accounted(line.credit)) for line in lines
        ]
        debits = sum((a.debit for a in out), Decimal(0))
        credits = sum((a.credit for a in out), Decimal(0))
        difference = debits - credits
        if not difference:
            return Decision(out, f"accounted = entered x {self.rate.rate}, rounded half-even")
        # the short side's largest line absorbs the rounding difference
        short_is_credit = difference > 0
        index = max(
            range(len(out)),
            key=lambda i: out[i].credit if short_is_credit else out[i].debit,
        )
        line = out[index]
        if short_is_credit:
            out[index] = AccountedLine(line.debit, line.credit + difference)
        else:
            out[index] = AccountedLine(line.debit - difference, line.credit)
        return Decision(
            out,
            f"accounted = entered x {self.rate.rate}, rounded half-even; rounding difference "
            f"{abs(difference)} {self.ledger_currency} put on {lines[index].account}",
        )


class CurrencyConversion:
    """The rule: whether and how a PayTrace (USD) amount is converted for the Fusion ledger."""

    def __init__(self, config: CurrencyConversionConfig | None = None) -> None:
        self.config = config or CurrencyConversionConfig()

    def decide(
        self, transaction_currency: str, conversion_date: date, lookup: RateLookup
    ) -> Decision[Conversion]:
        """The conversion of a document in ``transaction_currency`` dated ``conversion_date``;
        ``lookup`` is called only when the ledger currency differs (and may raise
        :class:`ConversionRateMissingError`)."""
        code = transaction_currency.strip().upper()
        ledger = self.config.ledger_currency
        if code == ledger:
            return Decision(
                Conversion(code, ledger, None, self.config),
                f"ledger currency {ledger} = transaction currency {code}: no conversion",
            )
        try:
            rate = lookup(code, ledger, conversion_date, self.config.conversion_type)
        except ConversionRateMissingError as exc:
            if exc.retry_after is None:
                exc.retry_after = self.config.missing_rate_retry_after
            raise
        if rate.rate <= 0:
            raise ValueError(f"{rate.explain()}: a conversion rate must be positive")
        places = currency_precision(ledger, self.config.precision)
        carried = (
            "sent as rate type User"
            if self.config.document_rate_type == "User"
            else f"sent as rate type {rate.conversion_type} (Fusion applies it)"
        )
        return Decision(
            Conversion(code, ledger, rate, self.config),
            f"{code} -> ledger {ledger} at {rate.explain()}, {carried}; accounted amounts "
            f"rounded half-even to {places} decimals; documents stay in {code}",
        )


def convert_gl_lines(
    lines: Sequence[GlInterfaceLine], journal: Journal, conversion: Conversion
) -> Decision[list[GlInterfaceLine]]:
    """``GlInterface.csv`` rows of ``journal`` (one per journal line, same order) with their
    conversion columns and accounted amounts; unchanged without a conversion."""
    columns = conversion.gl_columns()
    if columns is None:
        return Decision(list(lines), "no conversion: rows unchanged")
    if len(lines) != len(journal.lines):
        raise ValueError(f"{len(lines)} interface rows for {len(journal.lines)} journal lines")
    accounted = conversion.accounted_lines(journal.lines)
    rate_type, rate_date, rate = columns
    out = [
        dataclasses.replace(
            line,
            accounted_dr=amounts.debit if line.entered_dr is not None else None,
            accounted_cr=amounts.credit if line.entered_cr is not None else None,
            conversion_type=rate_type,
            conversion_date=rate_date,
            conversion_rate=rate,
        )
        for line, amounts in zip(lines, accounted.value, strict=True)
    ]
    return Decision(out, accounted.reason)
