"""Mappings of use cases 2 and 3: a PayTrace web sale -> canonical order and payment, the
order -> Fusion Order Hub and Salesforce ``Order``, a refund -> Fusion credit memo and the
netted ``Payment__c`` status. Each returns a :class:`Decision` (or a wire model)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict

from oracle_fusion_client import NewCreditMemo, NewSalesOrder, SalesOrderLine
from paysync_core.canonical import (
    Address,
    Customer,
    Order,
    Payment,
    PaymentMethodToken,
    PaymentStatus,
    RefundKind,
    RefundRequest,
)
from paysync_core.mapping._records import FusionReceivablesConfig
from paysync_core.mapping._rules import Decision, normalize_address
from paytrace_client.models import ExportedTransaction

__all__ = [
    "OrderFieldMap",
    "OrderHubConfig",
    "RefundFieldMap",
    "VaultXref",
    "credit_memo_to_fusion",
    "order_to_fusion",
    "order_to_salesforce",
    "refund_status",
    "web_order_from_paytrace",
]


class VaultXref(BaseModel):
    """PayTrace vault customer id -> Salesforce Account id and Fusion customer account (a web
    sale knows only its vault profile, if any). Unlisted customers get the defaults."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    salesforce: Mapping[str, str] = {}
    """PayTrace vault customer id -> Salesforce Account id."""
    fusion: Mapping[str, str] = {}
    """PayTrace vault customer id -> Fusion customer account number."""
    default_salesforce_account: str | None = None
    """Salesforce Account for customers not listed in ``salesforce`` (unset: such a sale is an
    error)."""
    default_fusion_account: str | None = None
    """Fusion customer account for customers not listed in ``fusion`` (unset: such a sale is an
    error)."""

    def salesforce_account(self, vault_id: str | None) -> Decision[str]:
        if vault_id and vault_id in self.salesforce:
            value = self.salesforce[vault_id]
            return Decision(value, f"vault {vault_id} -> Account {value} (cross-reference)")
        if self.default_salesforce_account is None:
            raise LookupError(f"vault customer {vault_id!r} has no Salesforce Account mapped")
        value = self.default_salesforce_account
        return Decision(value, f"vault {vault_id!r} not in cross-reference; default {value}")

    def fusion_account(self, vault_id: str | None) -> Decision[str]:
        if vault_id and vault_id in self.fusion:
            value = self.fusion[vault_id]
            return Decision(value, f"vault {vault_id} -> Fusion {value} (cross-reference)")
        if self.default_fusion_account is None:
            raise LookupError(f"vault customer {vault_id!r} has no Fusion customer account mapped")
        value = self.default_fusion_account
        return Decision(value, f"vault {vault_id!r} not in cross-reference; default {value}")


def _last4(masked: str | None) -> str | None:
    digits = (masked or "")[-4:]
    return digits if len(digits) == 4 and digits.isdigit() else None


def web_order_from_paytrace(
    record: ExportedTransaction, xref: VaultXref, *, channel: str = "web"
) -> Decision[tuple[Order, Payment]]:
    """An approved PayTrace SALE of the web store -> canonical order + captured payment.

    The web order number travels in ``invoice_id``; the instant is the export's ``created.at``
    (already aware: the client parses it in PayTrace's export time zone).
    """
    if record.amount is None:
        raise ValueError(f"PayTrace transaction {record.transaction_id}: amount missing")
    if not record.invoice_id:
        raise ValueError(f"PayTrace transaction {record.transaction_id}: invoice_id missing")
    created = record.created.at if record.created is not None else None
    if created is None:
        raise ValueError(f"PayTrace transaction {record.transaction_id}: created.at missing")
    account = xref.salesforce_account(record.customer_id)
    fusion = xref.fusion_account(record.customer_id)
    billing = record.billing_address
    name = (billing.name if billing else None) or record.customer_id or record.invoice_id
    address: Decision[Address] | None = None
    if billing is not None and (billing.street_address or billing.zip):
        address = normalize_address(
            name=billing.name,
            street=billing.street_address,
            city=billing.city,
            region=billing.state,
            postal_code=billing.zip,
            country=billing.country,
        )
    customer = Customer(
        customer_id=f"paytrace:{record.customer_id or record.invoice_id}",
        name=name,
        salesforce_account_id=account.value,
        paytrace_customer_id=record.customer_id,
        fusion_customer_account=fusion.value,
        billing_address=address.value if address is not None else None,
    )
    amount = record.amount.quantize(Decimal("0.01"))
    order = Order(
        source_system="web",
        source_id=record.invoice_id,
        customer=customer,
        amount=amount,
        order_date=created.date(),
        channel=channel,
        description=record.description or f"Web order {record.invoice_id}",
    )
    card = record.credit_card
    payment = Payment(
        gateway="paytrace",
        transaction_id=str(record.transaction_id),
        order_source_id=record.invoice_id,
        amount=amount,
        status=PaymentStatus.CAPTURED,
        status_reason=f"PayTrace export status {record.status_message!r}",
        method=PaymentMethodToken(
            gateway="paytrace",
            vault_id=record.customer_id or "",
            card_type=(card.type if card else None) or None,
            last4=_last4(card.masked_number if card else None),
        ),
        processed_at=created,
    )
    reason = f"web order {record.invoice_id} from PayTrace sale; {account.reason}; {fusion.reason}"
    if address is not None:
        reason += f"; address {address.reason}"
    return Decision((order, payment), reason)


class OrderHubConfig(BaseModel):
    """How a web order is booked in Fusion Order Hub."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    source_system: str = "PAYTRACE"
    """Order Hub source transaction system of the orders."""
    business_unit: str = "Vision Operations"
    """Fusion business unit of the orders."""
    product_number: str = "WEB-ORDER"
    """Item number of the single order line."""
    uom: str = "Ea"
    """Unit of measure code of the order line."""
    submit: bool = True
    """Submit the order for fulfillment (``false``: leave it a draft)."""


def order_to_fusion(order: Order, payment: Payment, config: OrderHubConfig) -> NewSalesOrder:
    """``SourceTransactionId`` = PayTrace transaction id (the OrderKey correlation),
    ``SourceTransactionNumber`` = web order number. The buying party is the Fusion account
    number (party and account numbers coincide in the seeded Vision data)."""
    return NewSalesOrder(
        SourceTransactionNumber=order.source_id,
        SourceTransactionSystem=config.source_system,
        SourceTransactionId=payment.transaction_id,
        TransactionalCurrencyCode=order.currency,
        BusinessUnitName=config.business_unit,
        BuyingPartyNumber=order.customer.fusion_customer_account,
        SubmittedFlag=config.submit,
        lines=[
            SalesOrderLine(
                SourceTransactionLineId="1",
                SourceTransactionLineNumber="1",
                ProductNumber=config.product_number,
                OrderedQuantity=Decimal(1),
                OrderedUOMCode=config.uom,
            )
        ],
    )


class OrderFieldMap(BaseModel):
    """Salesforce ``Order`` fields; ``None`` leaves an optional field out."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    sobject: str = "Order"
    """Salesforce object of web orders."""
    external_id: str = "External_Order_ID__c"
    """External id field the order is upserted by (the web order number)."""
    account: str = "AccountId"
    """Lookup to the customer's Account."""
    effective_date: str = "EffectiveDate"
    """Order date field."""
    status: str = "Status"
    """Status field of the order."""
    booked_status: str = "Draft"
    """Status value once paid and booked in Fusion (waiting for shipment)."""
    completed_status: str = "Activated"
    """Status value once shipped, invoiced and the cash applied."""
    fulfillment_status: str | None = "Fulfillment_Status__c"
    """Field given a readable fulfillment stage."""


def order_to_salesforce(
    order: Order, fields: OrderFieldMap, stage: str
) -> Decision[dict[str, Any]]:
    """The Order record at ``stage`` ``booked`` (paid, waiting for shipment) or ``paid``
    (shipped, invoiced and the cash applied)."""
    if stage not in ("booked", "paid"):
        raise ValueError(f"stage must be 'booked' or 'paid', not {stage!r}")
    status = fields.booked_status if stage == "booked" else fields.completed_status
    record: dict[str, Any] = {
        fields.account: order.customer.salesforce_account_id,
        fields.effective_date: order.order_date.isoformat(),
        fields.status: status,
    }
    detail = "Booked" if stage == "booked" else "Shipped and paid"
    if fields.fulfillment_status:
        record[fields.fulfillment_status] = detail
    return Decision(record, f"order {stage}: {fields.status}={status}, fulfillment {detail}")


class RefundFieldMap(BaseModel):
    """``Payment__c`` fields a refund updates."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    sobject: str = "Payment__c"
    """Salesforce object holding payments."""
    external_id: str = "Payment_ID__c"
    """External id field of the original payment (the PayTrace transaction)."""
    account: str = "Account__c"
    """Lookup to the customer's Account."""
    transaction_id: str | None = "Transaction_ID__c"
    """PayTrace transaction id field."""
    status: str = "Status__c"
    """Status picklist field (Voided, Refunded, Settled)."""
    refunded_amount: str | None = "Refunded_Amount__c"
    """Total refunded amount field."""
    status_reason: str | None = "Status_Reason__c"
    """Field explaining the status."""


def refund_status(
    kind: RefundKind, *, sale_amount: Decimal, refunded_total: Decimal
) -> Decision[str]:
    """Netted ``Status__c``: a void -> ``Voided``; refunds summing to the sale -> ``Refunded``;
    less -> ``Settled`` (a refund needs a settled sale; the net is in the refunded amount)."""
    if kind is RefundKind.VOID:
        return Decision("Voided", "voided before settlement")
    if refunded_total >= sale_amount:
        return Decision("Refunded", f"refunds total {refunded_total} of {sale_amount}")
    return Decision(
        "Settled",
        f"partially refunded: {refunded_total} of {sale_amount} (net "
        f"{sale_amount - refunded_total})",
    )


def credit_memo_to_fusion(
    request: RefundRequest,
    *,
    number: str,
    refund_transaction_id: str,
    revenue_account: str,
    credit_date: datetime,
    config: FusionReceivablesConfig,
    credit_memo_type: str = "Credit Memo",
) -> NewCreditMemo:
    """An on-account credit memo for the refunded amount (negative line, as Oracle's
    examples), numbered ``number`` so it can be found again; the comment names the sale's
    receipt and the PayTrace refund."""
    return NewCreditMemo.model_validate(
        {
            "TransactionNumber": number,
            "BusinessUnit": config.business_unit,
            "TransactionSource": config.transaction_source,
            "TransactionType": credit_memo_type,
            "TransactionDate": credit_date.date().isoformat(),
            "BillToCustomerNumber": request.fusion_customer_account,
            "CreditMemoCurrency": request.currency,
            "CreditReason": "REFUND",
            "CreditMemoComments": (
                f"PayTrace refund {refund_transaction_id} of sale "
                f"{request.original_transaction_id} (receipt PT-{request.original_transaction_id})"
            ),
            "receivablesCreditMemoLines": [
                {
                    "LineNumber": 1,
                    "LineDescription": f"Refund {request.request_id}: {request.reason}",
                    "LineQuantityCredit": 1,
                    "UnitSellingPrice": str(-request.amount),
                }
            ],
            "receivablesCreditMemoDistributions": [
                {
                    "CreditMemoLineNumber": 1,
                    "AccountClass": "Revenue",
                    "AccountCombination": revenue_account,
                }
            ],
        }
    )
