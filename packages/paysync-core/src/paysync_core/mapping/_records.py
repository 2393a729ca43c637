"""Record translations: Salesforce / PayTrace records into the canonical model, and canonical
entities out to Salesforce and Fusion shapes. Each returns a :class:`Decision`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, ConfigDict

from oracle_fusion_client import InvoiceDistribution, InvoiceLine, NewInvoice, NewStandardReceipt
from paysync_core.canonical import (
    Customer,
    Invoice,
    Order,
    Payment,
    PaymentMethodToken,
    Receipt,
)
from paysync_core.mapping._rules import (
    CustomerXref,
    Decision,
    paytrace_currency,
    paytrace_status,
    salesforce_status,
)

__all__ = [
    "FusionReceivablesConfig",
    "PaymentFieldMap",
    "invoice_to_fusion",
    "order_from_opportunity",
    "order_from_salesforce_order",
    "payment_from_paytrace",
    "payment_to_salesforce",
    "receipt_to_fusion",
]


def order_from_opportunity(
    record: Mapping[str, Any], xref: CustomerXref, *, channel: str = "sales"
) -> Decision[Order]:
    """A Salesforce Opportunity (REST/SOQL field names) -> canonical order."""
    opportunity_id = str(record["Id"])
    account_id = str(record["AccountId"])
    try:
        amount = Decimal(str(record["Amount"])).quantize(Decimal("0.01"))
    except (InvalidOperation, KeyError) as exc:
        raise ValueError(f"Opportunity {opportunity_id} has no valid Amount") from exc
    currency = paytrace_currency(str(record.get("CurrencyIsoCode") or "USD"))
    vault = xref.paytrace_customer(account_id)
    fusion = xref.fusion_account(account_id)
    customer = Customer(
        customer_id=f"sf:{account_id}",
        name=str(record.get("AccountName") or account_id),
        salesforce_account_id=account_id,
        paytrace_customer_id=vault.value,
        fusion_customer_account=fusion.value,
    )
    order = Order(
        source_system="salesforce",
        source_id=opportunity_id,
        customer=customer,
        amount=amount,
        currency=currency.value,
        order_date=date.fromisoformat(str(record["CloseDate"])),
        channel=channel,
        description=str(record.get("Name") or opportunity_id),
    )
    return Decision(order, f"{vault.reason}; {fusion.reason}; {currency.reason}")


def order_from_salesforce_order(
    record: Mapping[str, Any], xref: CustomerXref, *, channel: str = "sales"
) -> Decision[Order]:
    """A Salesforce ``Order`` (REST/SOQL field names) -> canonical order.

    ``TotalAmount`` (the roll-up of the Order's products) is the amount charged;
    ``EffectiveDate`` is the order date.
    """
    order_id = str(record.get("Id") or "")
    if not order_id:
        raise ValueError("Order.Id: missing")
    account_id = str(record.get("AccountId") or "")
    if not account_id:
        raise ValueError(f"Order {order_id}.AccountId: missing (the customer to charge)")
    try:
        amount = Decimal(str(record["TotalAmount"])).quantize(Decimal("0.01"))
    except (InvalidOperation, KeyError) as exc:
        raise ValueError(
            f"Order {order_id}.TotalAmount: {record.get('TotalAmount')!r} is not an amount"
        ) from exc
    if amount <= 0:
        raise ValueError(f"Order {order_id}.TotalAmount: {amount} is not a positive amount")
    try:
        order_date = date.fromisoformat(str(record["EffectiveDate"]))
    except (ValueError, KeyError) as exc:
        raise ValueError(
            f"Order {order_id}.EffectiveDate: {record.get('EffectiveDate')!r} is not a date"
        ) from exc
    currency = paytrace_currency(str(record.get("CurrencyIsoCode") or "USD"))
    vault = xref.paytrace_customer(account_id)
    fusion = xref.fusion_account(account_id)
    customer = Customer(
        customer_id=f"sf:{account_id}",
        name=str(record.get("AccountName") or account_id),
        salesforce_account_id=account_id,
        paytrace_customer_id=vault.value,
        fusion_customer_account=fusion.value,
    )
    number = str(record.get("OrderNumber") or order_id)
    order = Order(
        source_system="salesforce",
        source_id=order_id,
        customer=customer,
        amount=amount,
        currency=currency.value,
        order_date=order_date,
        channel=channel,
        description=f"Order {number}",
    )
    return Decision(
        order,
        f"amount = Order.TotalAmount {amount}; {vault.reason}; {fusion.reason}; {currency.reason}",
    )


def payment_from_paytrace(
    order: Order,
    *,
    transaction_id: str,
    response_code: int,
    message: str,
    processed_at: datetime,
    vault_id: str,
    card_type: str,
    last4: str,
) -> Decision[Payment]:
    status = paytrace_status(response_code, transaction_type="SALE", message=message)
    method = PaymentMethodToken(
        gateway="paytrace", vault_id=vault_id, card_type=card_type or None, last4=last4 or None
    )
    payment = Payment(
        gateway="paytrace",
        transaction_id=transaction_id,
        order_source_id=order.source_id,
        amount=order.amount,
        currency=order.currency,
        status=status.value,
        status_reason=status.reason,
        method=method,
        processed_at=processed_at,
    )
    return Decision(payment, status.reason)


class PaymentFieldMap(BaseModel):
    """``Payment__c`` field names; ``None`` leaves an optional field out (orgs differ)."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    sobject: str = "Payment__c"
    """Salesforce object holding payments."""
    external_id: str = "Payment_ID__c"
    """External id field the payment is upserted by (the PayTrace transaction)."""
    amount: str = "Amount__c"
    """Charged amount field."""
    currency: str | None = "Currency__c"
    """Currency code field."""
    status: str = "Status__c"
    """Status picklist field (Authorized, Settled, Declined ...)."""
    last4: str | None = "Last4Digits__c"
    """Last four card digits field."""
    transaction_id: str | None = "Transaction_ID__c"
    """PayTrace transaction id field."""
    account: str | None = "Account__c"
    """Lookup to the customer's Account."""
    processed_at: str | None = "Processed_At__c"
    """Date-time the payment was processed."""
    opportunity: str | None = "Opportunity__c"
    """Lookup to the Opportunity that started the flow."""
    order: str | None = "Order__c"
    """Lookup to the Order that started the flow."""
    card_type: str | None = "Card_Type__c"
    """Card type field (VISA, MASTERCARD ...)."""
    vault_id: str | None = "Vault_Customer_ID__c"
    """PayTrace vault customer id field."""
    status_reason: str | None = "Status_Reason__c"
    """Field explaining the status (decline reason, refund netting ...)."""


def payment_to_salesforce(
    payment: Payment,
    order: Order,
    fields: PaymentFieldMap,
    *,
    links: Mapping[str, str | None] | None = None,
) -> Decision[dict[str, Any]]:
    """``links`` names the Salesforce records the Payment points at (``opportunity``,
    ``order``); without it the order's source id is taken as the Opportunity."""
    opportunity_id = order.source_id if links is None else links.get("opportunity")
    order_id = None if links is None else links.get("order")
    picklist = salesforce_status(payment.status)
    method = payment.method
    candidates: dict[str | None, Any] = {
        fields.amount: payment.amount,
        fields.currency: payment.currency,
        fields.status: picklist.value,
        fields.last4: method.last4 if method else None,
        fields.transaction_id: payment.transaction_id,
        fields.account: order.customer.salesforce_account_id,
        fields.processed_at: payment.processed_at.isoformat(),
        fields.opportunity: opportunity_id,
        fields.order: order_id,
        fields.card_type: method.card_type if method else None,
        fields.vault_id: method.vault_id if method else None,
        fields.status_reason: payment.status_reason,
    }
    record = {k: v for k, v in candidates.items() if k is not None and v is not None}
    return Decision(record, picklist.reason)


class FusionReceivablesConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    business_unit: str = "Vision Operations"
    """Fusion business unit of invoices and receipts."""
    transaction_source: str = "Manual"
    """Receivables transaction source of the invoices."""
    transaction_type: str = "Invoice"
    """Receivables transaction type of the invoices."""
    payment_terms: str = "Immediate"
    """Payment terms of the invoices."""
    receipt_method: str = "Manual"
    """Receipt method of the standard receipts."""
    remittance_bank_account: str | None = "10271-17621-619"
    """Remittance bank account number of the receipts."""
    receivable_account: str | None = None
    """Receivable (REC) account combination of the invoices (unset: Fusion's AutoAccounting)."""


def invoice_to_fusion(invoice: Invoice, config: FusionReceivablesConfig) -> NewInvoice:
    distributions = [
        InvoiceDistribution(
            AccountClass="REV", AccountCombination=invoice.revenue_account, Percent=Decimal(100)
        )
    ]
    if config.receivable_account:
        distributions.append(
            InvoiceDistribution(AccountClass="REC", AccountCombination=config.receivable_account)
        )
    return NewInvoice(
        BusinessUnit=config.business_unit,
        TransactionSource=config.transaction_source,
        TransactionType=config.transaction_type,
        TransactionDate=invoice.invoice_date,
        BillToCustomerNumber=invoice.customer_account,
        InvoiceCurrencyCode=invoice.currency,
        PaymentTerms=config.payment_terms,
        TransactionNumber=invoice.number,
        receivablesInvoiceLines=[
            InvoiceLine(
                LineNumber=1,
                Description=f"Invoice {invoice.number}",
                Quantity=Decimal(1),
                UnitSellingPrice=invoice.amount,
            )
        ],
        receivablesInvoiceDistributions=distributions,
    )


def receipt_to_fusion(receipt: Receipt, config: FusionReceivablesConfig) -> NewStandardReceipt:
    return NewStandardReceipt(
        ReceiptNumber=receipt.number,
        ReceiptMethod=config.receipt_method,
        BusinessUnit=config.business_unit,
        Amount=receipt.amount,
        Currency=receipt.currency,
        ReceiptDate=receipt.receipt_date,
        RemittanceBankAccountNumber=config.remittance_bank_account,
        CustomerAccountNumber=receipt.customer_account,
        Comments=f"PayTrace payment for invoice {receipt.invoice_number}",
    )
