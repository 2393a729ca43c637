"""The business flows (issue 8), each a :class:`~paysync_core.FlowDefinition` on the engine."""

from .order_to_cash import (
    USE_CASE,
    OrderToCash,
    OrderToCashConfig,
)

__all__ = ["USE_CASE", "OrderToCash", "OrderToCashConfig"]
