"""The business flows (issue 8), each a :class:`~paysync_core.FlowDefinition` on the engine."""

from ._paytrace_poller import (
    ActivityHandler,
    PayTraceActivityPoller,
    PayTraceVoidPoller,
    PollReport,
    VoidPollReport,
)
from ._profile_poller import PayTraceProfilePoller, ProfilePollReport
from .customer_sync import FUSION_USE_CASE as CUSTOMER_SYNC_FUSION_USE_CASE
from .customer_sync import PAYTRACE_USE_CASE as CUSTOMER_SYNC_PAYTRACE_USE_CASE
from .customer_sync import USE_CASE as CUSTOMER_SYNC_USE_CASE
from .customer_sync import CustomerSync, CustomerSyncConfig
from .declines_chargebacks import (
    CHARGEBACKS_USE_CASE,
    DECLINES_USE_CASE,
    DeclinesChargebacks,
    DeclinesChargebacksConfig,
)
from .ecommerce_order_to_cash import ECOMMERCE_USE_CASE, EcommerceConfig, EcommerceOrderToCash
from .fusion_payment_status import (
    FUSION_PAYMENT_STATUS_USE_CASE,
    FusionPaymentStatus,
    FusionPaymentStatusConfig,
    FusionPaymentStatusFields,
)
from .order_to_cash import (
    USE_CASE,
    OrderToCash,
    OrderToCashConfig,
)
from .recurring_billing import USE_CASE as RECURRING_USE_CASE
from .recurring_billing import RecurringBilling, RecurringBillingConfig
from .refunds import REFUNDS_USE_CASE, Refunds, RefundsConfig
from .settlement_gl import USE_CASE as SETTLEMENT_USE_CASE
from .settlement_gl import (
    JournalImportFailedError,
    SettlementToGl,
    SettlementToGlConfig,
)

__all__ = [
    "CHARGEBACKS_USE_CASE",
    "CUSTOMER_SYNC_FUSION_USE_CASE",
    "CUSTOMER_SYNC_PAYTRACE_USE_CASE",
    "CUSTOMER_SYNC_USE_CASE",
    "DECLINES_USE_CASE",
    "ECOMMERCE_USE_CASE",
    "FUSION_PAYMENT_STATUS_USE_CASE",
    "RECURRING_USE_CASE",
    "REFUNDS_USE_CASE",
    "SETTLEMENT_USE_CASE",
    "USE_CASE",
    "ActivityHandler",
    "CustomerSync",
    "CustomerSyncConfig",
    "DeclinesChargebacks",
    "DeclinesChargebacksConfig",
    "EcommerceConfig",
    "EcommerceOrderToCash",
    "FusionPaymentStatus",
    "FusionPaymentStatusConfig",
    "FusionPaymentStatusFields",
    "JournalImportFailedError",
    "OrderToCash",
    "OrderToCashConfig",
    "PayTraceActivityPoller",
    "PayTraceProfilePoller",
    "PayTraceVoidPoller",
    "PollReport",
    "ProfilePollReport",
    "RecurringBilling",
    "RecurringBillingConfig",
    "Refunds",
    "RefundsConfig",
    "SettlementToGl",
    "SettlementToGlConfig",
    "VoidPollReport",
]
