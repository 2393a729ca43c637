"""Decline reasons: why a PayTrace payment was not approved and what to do about it.

The status rule (:func:`paytrace_status`) says *that* a payment failed; this rule reads the
processor's text (``approval_message``, e.g. ``"DECLINE - Do not honor"``) into a category
and a follow-up action for the Salesforce task, explaining which words decided it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from paysync_core.mapping._rules import Decision, paytrace_status

__all__ = ["DeclineReason", "decline_reason"]


@dataclass(frozen=True)
class DeclineReason:
    category: str
    action: str
    status_reason: str
    """The status rule's explanation (code, meaning, processor text)."""


# (category, words that signal it, follow-up action); the first category whose word appears
# in the processor text wins, so the specific ones come first.
_CATEGORIES: Sequence[tuple[str, tuple[str, ...], str]] = (
    (
        "insufficient_funds",
        ("insufficient", "nsf", "over limit", "exceeds"),
        "retry later or ask for another payment method",
    ),
    ("expired_card", ("expired",), "ask the customer for the card's new expiry or a new card"),
    (
        "verification_failed",
        ("cvv", "csc", "avs", "address", "zip", "security code"),
        "ask the customer to re-enter the card details",
    ),
    (
        "invalid_card",
        ("invalid", "no such", "restricted", "lost", "stolen", "pick up"),
        "ask for another card; do not retry this one",
    ),
    (
        "do_not_honor",
        ("do not honor", "decline", "not approved"),
        "ask the customer to contact the issuer or use another card",
    ),
)


def decline_reason(response_code: int, message: str) -> Decision[DeclineReason]:
    """PayTrace response code + processor text -> category and follow-up action."""
    status = paytrace_status(response_code, message=message)
    text = message.lower()
    for category, words, action in _CATEGORIES:
        matched = next((w for w in words if w in text), None)
        if matched is not None:
            reason = DeclineReason(category, action, status.reason)
            return Decision(reason, f"{status.reason}; {matched!r} in the text -> {category}")
    reason = DeclineReason("other", "review the payment in PayTrace", status.reason)
    return Decision(reason, f"{status.reason}; no known wording -> other")
