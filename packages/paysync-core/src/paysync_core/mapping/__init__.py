"""Mapping rules between each system's records and the canonical model.

Every rule returns a :class:`Decision`: the value plus a human-readable reason, so a flow's
audit trail (and ``paysync replay``) can say *why* a status, a GL account or a date was chosen.
"""

from ._records import (
    FusionReceivablesConfig,
    PaymentFieldMap,
    invoice_to_fusion,
    order_from_opportunity,
    payment_from_paytrace,
    payment_to_salesforce,
    receipt_to_fusion,
)
from ._rules import (
    PAYTRACE_APPROVED_CODES,
    PAYTRACE_DECLINE_CODES,
    CustomerXref,
    Decision,
    GlRule,
    GlTable,
    fusion_date,
    normalize_address,
    paytrace_currency,
    paytrace_status,
    salesforce_status,
    to_utc,
)

__all__ = [
    "PAYTRACE_APPROVED_CODES",
    "PAYTRACE_DECLINE_CODES",
    "CustomerXref",
    "Decision",
    "FusionReceivablesConfig",
    "GlRule",
    "GlTable",
    "PaymentFieldMap",
    "fusion_date",
    "invoice_to_fusion",
    "normalize_address",
    "order_from_opportunity",
    "payment_from_paytrace",
    "payment_to_salesforce",
    "paytrace_currency",
    "paytrace_status",
    "receipt_to_fusion",
    "salesforce_status",
    "to_utc",
]
