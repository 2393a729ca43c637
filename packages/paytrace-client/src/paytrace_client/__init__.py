"""Typed client for the PayTrace JSON API v1, with a wire-faithful local emulator."""

from ._cards import card_brand, luhn_valid, mask_pan, routing_number_valid
from ._errors import (
    LookupHint,
    PayTraceAPIError,
    PayTraceAuthError,
    PayTraceConnectionError,
    PayTraceDeclinedError,
    PayTraceDuplicateError,
    PayTraceError,
    PayTraceHTTPError,
    PayTraceInputError,
    PayTraceNotFoundError,
    PayTraceOutcomeUnknownError,
    PayTraceRateLimitError,
    PayTraceStateError,
    PayTraceStatusError,
    PayTraceTimeoutError,
    PayTraceValidationError,
)

__all__ = [
    "LookupHint",
    "PayTraceAPIError",
    "PayTraceAuthError",
    "PayTraceConnectionError",
    "PayTraceDeclinedError",
    "PayTraceDuplicateError",
    "PayTraceError",
    "PayTraceHTTPError",
    "PayTraceInputError",
    "PayTraceNotFoundError",
    "PayTraceOutcomeUnknownError",
    "PayTraceRateLimitError",
    "PayTraceStateError",
    "PayTraceStatusError",
    "PayTraceTimeoutError",
    "PayTraceValidationError",
    "card_brand",
    "luhn_valid",
    "mask_pan",
    "routing_number_valid",
]
