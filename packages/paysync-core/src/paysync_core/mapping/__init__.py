"""Mapping rules between each system's records and the canonical model.

Every rule returns a :class:`Decision`: the value plus a human-readable reason, so a flow's
audit trail (and ``paysync replay``) can say *why* a status, a GL account or a date was chosen.
"""

from ._custom import (
    PAYTRACE_ANSWER_FIELDS,
    PAYTRACE_REFERENCE_TARGETS,
    paytrace_reference_values,
    salesforce_custom_values,
    validate_payment_custom_fields,
    validate_reference_fields,
)
from ._customers import (
    CUSTOMER_FIELD_OWNERS,
    customer_from_account,
    customer_to_paytrace_address,
    paytrace_profile_differences,
)
from ._declines import DeclineReason, decline_reason
from ._records import (
    FusionReceivablesConfig,
    PaymentFieldMap,
    invoice_to_fusion,
    order_from_opportunity,
    order_from_salesforce_order,
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
from ._settlement import (
    FeeRule,
    SettlementGlConfig,
    UnbalancedJournalError,
    check_balanced,
    settlement_journal,
)
from ._settlement_records import settlement_from_paytrace
from ._subscription import (
    DunningPolicy,
    SubscriptionFieldMap,
    SubscriptionOutcome,
    next_charge_date,
    subscription_from_salesforce,
)
from ._web import (
    OrderFieldMap,
    OrderHubConfig,
    RefundFieldMap,
    VaultXref,
    credit_memo_to_fusion,
    order_to_fusion,
    order_to_salesforce,
    refund_status,
    web_order_from_paytrace,
)

__all__ = [
    "CUSTOMER_FIELD_OWNERS",
    "PAYTRACE_ANSWER_FIELDS",
    "PAYTRACE_APPROVED_CODES",
    "PAYTRACE_DECLINE_CODES",
    "PAYTRACE_REFERENCE_TARGETS",
    "CustomerXref",
    "Decision",
    "DeclineReason",
    "DunningPolicy",
    "FeeRule",
    "FusionReceivablesConfig",
    "GlRule",
    "GlTable",
    "OrderFieldMap",
    "OrderHubConfig",
    "PaymentFieldMap",
    "RefundFieldMap",
    "SettlementGlConfig",
    "SubscriptionFieldMap",
    "SubscriptionOutcome",
    "UnbalancedJournalError",
    "VaultXref",
    "check_balanced",
    "credit_memo_to_fusion",
    "customer_from_account",
    "customer_to_paytrace_address",
    "decline_reason",
    "fusion_date",
    "invoice_to_fusion",
    "next_charge_date",
    "normalize_address",
    "order_from_opportunity",
    "order_from_salesforce_order",
    "order_to_fusion",
    "order_to_salesforce",
    "payment_from_paytrace",
    "payment_to_salesforce",
    "paytrace_currency",
    "paytrace_profile_differences",
    "paytrace_reference_values",
    "paytrace_status",
    "receipt_to_fusion",
    "refund_status",
    "salesforce_custom_values",
    "salesforce_status",
    "settlement_from_paytrace",
    "settlement_journal",
    "subscription_from_salesforce",
    "to_utc",
    "validate_payment_custom_fields",
    "validate_reference_fields",
    "web_order_from_paytrace",
]
