"""The currency conversion rule: no conversion for a USD ledger, the Fusion rate and its
explanation otherwise, half-even rounding to the ledger currency's minor unit, balanced
accounted journal lines, and a missing rate as a retryable error."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from pydantic import ValidationError

from oracle_fusion_client import FusionRateNotFoundError, GlInterfaceLine
from paysync_core import ErrorKind, RetryableError
from paysync_core.canonical import Journal, JournalLine
from paysync_core.mapping import (
    ConversionRate,
    ConversionRateMissingError,
    CurrencyConversion,
    CurrencyConversionConfig,
    convert_gl_lines,
    round_currency,
)
from paysync_core.ports import ClientErrorClassifier

DAY = date(2026, 11, 20)


def _lookup(
    rate: str,
) -> tuple[Callable[[str, str, date, str], ConversionRate], list[tuple[str, str, date, str]]]:
    calls: list[tuple[str, str, date, str]] = []

    def lookup(src: str, dst: str, day: date, kind: str) -> ConversionRate:
        calls.append((src, dst, day, kind))
        return ConversionRate(src, dst, day, kind, Decimal(rate))

    return lookup, calls


def _missing(src: str, dst: str, day: date, kind: str) -> ConversionRate:
    raise ConversionRateMissingError(src, dst, day, kind)


def test_usd_ledger_needs_no_conversion_and_no_lookup() -> None:
    lookup, calls = _lookup("1")
    decision = CurrencyConversion().decide("usd", DAY, lookup)
    assert decision.value.rate is None
    assert decision.reason == "ledger currency USD = transaction currency USD: no conversion"
    assert decision.value.document_fields() == {}
    assert decision.value.gl_columns() is None
    assert decision.value.accounted(Decimal("10.00")) == Decimal("10.00")
    assert calls == []


def test_eur_ledger_reads_the_rate_and_explains_it() -> None:
    lookup, calls = _lookup("0.9132")
    rule = CurrencyConversion(CurrencyConversionConfig(ledger_currency="EUR"))
    decision = rule.decide("USD", DAY, lookup)
    assert calls == [("USD", "EUR", DAY, "Corporate")]
    assert "rate 0.9132 Corporate 2026-11-20 from Fusion currencyRates" in decision.reason
    assert "rounded half-even to 2 decimals" in decision.reason
    conversion = decision.value
    assert conversion.document_fields() == {
        "ConversionRateType": "User",
        "ConversionDate": DAY,
        "ConversionRate": Decimal("0.9132"),
    }
    assert conversion.gl_columns() == ("User", DAY, Decimal("0.9132"))
    assert conversion.accounted(Decimal("149.99")) == Decimal("136.97")  # 136.970868


def test_lookup_mode_sends_the_rate_type_and_date_without_a_rate() -> None:
    lookup, _ = _lookup("0.9132")
    config = CurrencyConversionConfig(ledger_currency="EUR", document_rate_type="lookup")
    conversion = CurrencyConversion(config).decide("USD", DAY, lookup).value
    assert conversion.document_fields() == {
        "ConversionRateType": "Corporate",
        "ConversionDate": DAY,
    }
    assert conversion.gl_columns() == ("Corporate", DAY, None)


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("0.125", "EUR", "0.12"),  # half-even: to the even cent
        ("0.135", "EUR", "0.14"),
        ("1234.5", "JPY", "1234"),
        ("1235.5", "JPY", "1236"),
        ("1.0005", "KWD", "1.000"),
        ("1.0015", "KWD", "1.002"),
    ],
)
def test_rounding_is_half_even_to_the_minor_unit(amount: str, currency: str, expected: str) -> None:
    assert round_currency(Decimal(amount), currency) == Decimal(expected)
    assert str(round_currency(Decimal(amount), currency)) == expected


def test_precision_can_be_overridden() -> None:
    assert round_currency(Decimal("10.5"), "HUF", {"HUF": 0}) == Decimal("10")


def test_missing_rate_is_retryable_with_the_configured_delay_and_evidence() -> None:
    rule = CurrencyConversion(
        CurrencyConversionConfig(ledger_currency="EUR", missing_rate_retry_after=600)
    )
    with pytest.raises(ConversionRateMissingError) as caught:
        rule.decide("USD", DAY, _missing)
    error = caught.value
    assert isinstance(error, RetryableError)
    assert error.retry_after == 600
    assert str(error).startswith(
        "no Corporate rate from USD to EUR on 2026-11-20 in Fusion currencyRates"
    )


def test_bad_configuration_is_refused_naming_the_field() -> None:
    with pytest.raises(ValidationError, match="ledger_currency"):
        CurrencyConversionConfig(ledger_currency="euro")
    with pytest.raises(ValidationError, match="missing_rate_retry_after"):
        CurrencyConversionConfig(missing_rate_retry_after=-1)


def test_a_non_positive_rate_is_never_applied() -> None:
    lookup, _ = _lookup("0")
    with pytest.raises(ValueError, match="must be positive"):
        CurrencyConversion(CurrencyConversionConfig(ledger_currency="EUR")).decide(
            "USD", DAY, lookup
        )


def _journal(*lines: JournalLine) -> Journal:
    return Journal(
        ledger="L", accounting_date=DAY, source="PayTrace", category="Receipts", lines=lines
    )


def test_accounted_journal_lines_balance_after_rounding() -> None:
    # three credits of 0.05 at 0.9132 round to 0.05 each (0.15); the debit 0.15 -> 0.14:
    # the rounding difference goes to the short (debit) side's largest line
    journal = _journal(
        JournalLine(account="A", credit=Decimal("0.05")),
        JournalLine(account="B", credit=Decimal("0.05")),
        JournalLine(account="C", credit=Decimal("0.05")),
        JournalLine(account="CASH", debit=Decimal("0.15")),
    )
    lookup, _ = _lookup("0.9132")
    conversion = CurrencyConversion(CurrencyConversionConfig(ledger_currency="EUR")).decide(
        "USD", DAY, lookup
    )
    accounted = conversion.value.accounted_lines(journal.lines)
    debits = sum((a.debit for a in accounted.value), Decimal(0))
    credits = sum((a.credit for a in accounted.value), Decimal(0))
    assert debits == credits == Decimal("0.15")
    assert accounted.value[3].debit == Decimal("0.15")  # 0.14 + the 0.01 difference
    assert "rounding difference 0.01 EUR put on CASH" in accounted.reason


def test_gl_rows_get_conversion_columns_and_accounted_amounts() -> None:
    journal = _journal(
        JournalLine(account="01-000-4000", credit=Decimal("100.00")),
        JournalLine(account="01-000-1110", debit=Decimal("100.00")),
    )
    rows = [
        GlInterfaceLine(
            ledger_id=1,
            accounting_date=DAY,
            source="PayTrace",
            category="Receipts",
            currency="USD",
            segments=line.account.split("-"),
            entered_dr=line.debit or None,
            entered_cr=line.credit or None,
        )
        for line in journal.lines
    ]
    lookup, _ = _lookup("0.9132")
    usd = CurrencyConversion().decide("USD", DAY, lookup)
    assert convert_gl_lines(rows, journal, usd.value).value == rows  # unchanged
    eur = CurrencyConversion(CurrencyConversionConfig(ledger_currency="EUR")).decide(
        "USD", DAY, lookup
    )
    converted = convert_gl_lines(rows, journal, eur.value).value
    assert (converted[0].accounted_cr, converted[0].accounted_dr) == (Decimal("91.32"), None)
    assert (converted[1].accounted_dr, converted[1].accounted_cr) == (Decimal("91.32"), None)
    assert converted[0].row()[63:66] == ["User", DAY, Decimal("0.9132")]


def test_a_rate_error_escaping_the_port_is_classified_retryable() -> None:
    error = FusionRateNotFoundError("USD", "EUR", DAY, "Corporate")
    classified = ClientErrorClassifier().classify(error)
    assert classified.kind is ErrorKind.RETRYABLE
    assert "no Corporate rate from USD to EUR on 2026-11-20" in classified.reason


def test_negative_precision_is_refused() -> None:
    with pytest.raises(ValidationError, match="precision"):
        CurrencyConversionConfig(precision={"EUR": -1})
