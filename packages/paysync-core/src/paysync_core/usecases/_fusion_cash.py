"""The Fusion half of both order-to-cash flows: post the invoice, the standard receipt for the
PayTrace payment, and apply the receipt to the invoice; each with the lookup that resolves a
lost answer by the record's natural key (invoice number, ``PT-<transaction id>``).

With a ``currency`` configuration whose ledger currency is not USD, the invoice and the
receipt stay in USD and carry the Fusion daily rate of their date
(``ConversionRateType`` / ``ConversionDate`` / ``ConversionRate``), read when the step runs;
a rate not loaded yet fails the step retryably and nothing is posted."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal

from paysync_core import LookupResult, Step, StepContext
from paysync_core._steps import Lookup, Perform, Summarize
from paysync_core.canonical import Invoice, Receipt
from paysync_core.mapping import (
    Conversion,
    CurrencyConversion,
    CurrencyConversionConfig,
    Decision,
    FusionReceivablesConfig,
    invoice_to_fusion,
    receipt_to_fusion,
)
from paysync_core.ports import FusionPort

from ._invoice_split import SplitLine, describe_lines, split_invoice

__all__ = [
    "StepCalls",
    "apply_receipt",
    "apply_summary",
    "conversion_note",
    "conversion_summary",
    "credit_memo_conversion",
    "find_applied",
    "find_invoice",
    "find_receipt",
    "fusion_cash_steps",
    "post_invoice",
    "post_receipt",
    "receipt_for",
]


#: What one step of a flow calls: ``(perform, lookup, summarize)``.
StepCalls = tuple[Perform, Lookup, Summarize]


def fusion_cash_steps(invoice: StepCalls, receipt: StepCalls, apply: StepCalls) -> list[Step]:
    """The ``fusion_invoice``, ``fusion_receipt`` and ``fusion_apply`` steps, in that order.

    Their names are the keys :func:`apply_receipt`, :func:`apply_summary` and
    :func:`find_applied` read the earlier results by, and the step names flows already in the
    ledger were recorded with: both order-to-cash flows declare them here."""
    named = (("fusion_invoice", invoice), ("fusion_receipt", receipt), ("fusion_apply", apply))
    return [
        Step(name, perform, lookup, system="fusion", summarize=summarize)
        for name, (perform, lookup, summarize) in named
    ]


def _invoice_ids(invoice_id: object, invoice: Invoice, reason: str) -> dict[str, str]:
    return {"invoice_id": str(invoice_id), "invoice_number": invoice.number, "mapping": reason}


def _conversion(
    fusion: FusionPort, currency: CurrencyConversionConfig | None, code: str, day: date
) -> Decision[Conversion] | None:
    """The rule's decision, or ``None`` for a USD ledger (payloads exactly as before)."""
    if currency is None or currency.ledger_currency == code.upper():
        return None
    return CurrencyConversion(currency).decide(code, day, fusion.conversion_rate)


def conversion_summary(
    currency: CurrencyConversionConfig | None, code: str, day: date | None
) -> dict[str, str]:
    """The plan's view of the conversion rule (the rate itself is read when the step runs):
    ``{"currency_conversion": ...}``, or nothing for a document in the ledger currency."""
    if currency is None or currency.ledger_currency == code.upper():
        return {}
    when = day.isoformat() if day is not None else "the document date"
    carried = (
        "sent as rate type User with that rate"
        if currency.document_rate_type == "User"
        else f"sent as rate type {currency.conversion_type} (Fusion applies its rate)"
    )
    return {
        "currency_conversion": f"{code.upper()} -> ledger {currency.ledger_currency}: "
        f"{currency.conversion_type} rate of {when} read from Fusion currencyRates when the "
        f"step runs, {carried}; the document stays in {code.upper()}, accounted amounts "
        "rounded half-even"
    }


def conversion_note(conversion: Decision[Conversion], amount: Decimal, currency: str) -> str:
    """The ``currency_conversion`` a step records for a document of ``amount`` ``currency``:
    the rate's reason and the amount in the ledger currency."""
    accounted = conversion.value.accounted(amount)
    return (
        f"{conversion.reason}; amount {amount} {currency} = {accounted} "
        f"{conversion.value.ledger_currency}"
    )


def credit_memo_conversion(
    fusion: FusionPort, currency: CurrencyConversionConfig | None, code: str, day: date
) -> Decision[Conversion] | None:
    """The conversion a credit memo in ``code`` dated ``day`` carries (``None``: the ledger
    currency, payload unchanged); a rate not loaded yet fails retryably, nothing posted."""
    return _conversion(fusion, currency, code, day)


def post_invoice(
    fusion: FusionPort,
    config: FusionReceivablesConfig,
    invoice: Invoice,
    reason: str,
    *,
    currency: CurrencyConversionConfig | None = None,
    lines: Sequence[SplitLine] = (),
) -> Mapping[str, str]:
    """Posts ``invoice``: one line on its revenue account, or with ``lines`` (use case 1's
    product line split) one line and REV distribution per line, summing to its amount."""
    payload = invoice_to_fusion(invoice, config)
    if lines:
        payload = split_invoice(payload, invoice.number, lines)
    conversion = _conversion(fusion, currency, invoice.currency, invoice.invoice_date)
    if conversion is not None:
        payload = payload.model_copy(update=conversion.value.document_fields())
    created = fusion.create_invoice(payload)
    ids = dict(_invoice_ids(created.CustomerTransactionId, invoice, reason))
    if conversion is not None:
        ids["currency_conversion"] = conversion.reason
    if lines:
        ids["invoice_lines"] = "; ".join(describe_lines(lines))
    return ids


def find_invoice(fusion: FusionPort, invoice: Invoice, reason: str) -> LookupResult:
    found = fusion.find_invoice(invoice.number)
    if found is None:
        return LookupResult.absent(f"no invoice {invoice.number}")
    return LookupResult.found(_invoice_ids(found.CustomerTransactionId, invoice, reason))


def receipt_for(invoice: Invoice, transaction_id: object) -> Receipt:
    """The receipt of the PayTrace payment ``transaction_id`` that pays ``invoice``."""
    return Receipt(
        number=f"PT-{transaction_id}",
        customer_account=invoice.customer_account,
        amount=invoice.amount,
        currency=invoice.currency,
        receipt_date=invoice.invoice_date,
        invoice_number=invoice.number,
    )


def post_receipt(
    fusion: FusionPort,
    config: FusionReceivablesConfig,
    receipt: Receipt,
    *,
    currency: CurrencyConversionConfig | None = None,
) -> Mapping[str, str]:
    payload = receipt_to_fusion(receipt, config)
    conversion = _conversion(fusion, currency, receipt.currency, receipt.receipt_date)
    if conversion is not None:
        payload = payload.model_copy(update=conversion.value.document_fields())
    created = fusion.create_receipt(payload)
    ids = {"receipt_id": str(created.StandardReceiptId), "receipt_number": receipt.number}
    if conversion is not None:
        ids["currency_conversion"] = conversion_note(conversion, receipt.amount, receipt.currency)
    return ids


def find_receipt(fusion: FusionPort, number: str) -> LookupResult:
    found = fusion.find_receipt(number)
    if found is None:
        return LookupResult.absent(f"no receipt {number}")
    return LookupResult.found(
        {"receipt_id": str(found.StandardReceiptId), "receipt_number": number}
    )


def apply_receipt(
    fusion: FusionPort, results: Mapping[str, Mapping[str, str]], amount: Decimal
) -> Mapping[str, str]:
    """Applies the ``fusion_receipt`` step's receipt to the ``fusion_invoice`` step's invoice."""
    schedule = fusion.installment_id(int(results["fusion_invoice"]["invoice_id"]))
    receipt_id = int(results["fusion_receipt"]["receipt_id"])
    fusion.apply_receipt(receipt_id, schedule, amount)
    return {"applied_schedule_id": str(schedule), "amount": str(amount)}


def apply_summary(ctx: StepContext, amount: Decimal) -> Mapping[str, object]:
    """The ``applyReceipt`` action: receipt, the invoice's installment, amount."""
    return {
        "resource": "standardReceipts/{receipt_id}/action/applyReceipt",
        "receipt_id": ctx.results["fusion_receipt"]["receipt_id"],
        "invoice_id": ctx.results["fusion_invoice"]["invoice_id"],
        "amount": str(amount),
    }


def find_applied(
    fusion: FusionPort, results: Mapping[str, Mapping[str, str]], amount: Decimal
) -> LookupResult:
    number = results["fusion_receipt"]["receipt_number"]
    if fusion.receipt_applied(number, amount):
        return LookupResult.found({"amount": str(amount)}, f"receipt {number} applied")
    return LookupResult.absent(f"receipt {number} not applied")
