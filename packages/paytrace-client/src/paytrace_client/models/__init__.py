"""Typed request inputs and response models of the PayTrace JSON API v1."""

from ._address import Address
from ._base import (
    DEFAULT_EXPORT_TIMEZONE,
    ExportTimestamp,
    Money,
    PayTraceResponse,
    ResponseModel,
)
from ._exports import (
    Batch,
    CustomerRecord,
    ExportedAddress,
    ExportedCheck,
    ExportedCheckTransaction,
    ExportedCreditCard,
    ExportedTransaction,
    TransactionCreated,
)
from ._extras import CheckExtras, CustomerExtras, TransactionExtras
from ._level3 import AmountInput, Level3Data, Level3LineItem
from ._payment_inputs import Check, CreditCard, ProtectToken, SwipeData
from ._results import CheckResult, ClientKey, CustomerResult, TransactionResult

__all__ = [
    "DEFAULT_EXPORT_TIMEZONE",
    "Address",
    "AmountInput",
    "Batch",
    "Check",
    "CheckExtras",
    "CheckResult",
    "ClientKey",
    "CreditCard",
    "CustomerExtras",
    "CustomerRecord",
    "CustomerResult",
    "ExportTimestamp",
    "ExportedAddress",
    "ExportedCheck",
    "ExportedCheckTransaction",
    "ExportedCreditCard",
    "ExportedTransaction",
    "Level3Data",
    "Level3LineItem",
    "Money",
    "PayTraceResponse",
    "ProtectToken",
    "ResponseModel",
    "SwipeData",
    "TransactionCreated",
    "TransactionExtras",
    "TransactionResult",
]
