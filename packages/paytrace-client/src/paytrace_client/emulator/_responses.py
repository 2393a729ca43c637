"""PayTrace's response codes and message texts, and the error raised by endpoint handlers.

Texts marked [C] are verbatim from the reference fixtures (section 8). Texts marked [I] are
our invention where PayTrace's wording is unknown; they are listed in EMULATOR.md.
"""

from __future__ import annotations

from typing import Any, Literal, cast

__all__ = [
    "MSG",
    "ApiError",
    "Json",
    "Outcome",
    "as_obj",
    "error_body",
]

Json = dict[str, Any]
#: How a handler's body maps to an HTTP status: ok -> 200, decline -> config.decline_status,
#: error -> config.error_status.
Outcome = Literal["ok", "decline", "error"]

ERRORS_OCCURRED = "One or more errors has occurred."  # [C]

# Success / decline status messages.
APPROVED = "Your transaction was successfully approved."  # [C] 101
NOT_APPROVED = "Your transaction was not approved."  # [C] 102
AUTO_VOIDED = (  # [I] 103
    "Your transaction was successfully approved. However, it was voided because your "
    "address and/or CSC did not match."
)
REFUNDED = "Your transaction was successfully refunded."  # [C] 106
VOIDED = "Your transaction was successfully voided."  # [C] 109
CAPTURED = "Your transaction was successfully captured."  # [C] 112
CHECK_PROCESSED = "Your check was successfully processed."  # [C] 120
CHECK_REFUNDED = "Your check was successfully refunded."  # [C] 122
CHECK_MANAGED = "Your check was successfully managed."  # [C] 124
CHECK_NOT_PROCESSED = "Your check was NOT successfully processed."  # [C] 125
EXPORT_OK = "Your request has been successfully completed."  # [I] exports
SETTLED = "Your batch was successfully settled."  # [I] 175 (legacy code)

DECLINE_SALE = "    DECLINE      - Do not honor"  # [C] F2
DECLINE_AUTH = "  EXPIRED CARD - Expired card"  # [C] F3
APPROVAL_NO_MATCH = "  NO  MATCH - Approved and completed"  # [C] F1

# Validation / business error texts, keyed by PayTrace error code.
MSG: dict[str, str] = {
    "30": "Customer ID, {customer_id}, was not found or is incomplete.",  # [C]
    "35": "Please provide a valid Credit Card Number.",  # [C]
    "38": "Please provide a valid Customer ID.",  # [I]
    "39": "Please provide a valid Transaction Amount.",  # [I]
    "43": "Please provide a valid Expiration Month.",  # [C]
    "44": "Please provide a valid Expiration Year.",  # [I] code [C]
    "45": "Please provide a valid Checking Account Number.",  # [C]
    "46": "Please provide a valid Transit Routing Number.",  # [C]
    "47": "Please provide a valid CSC.",  # [I]
    "48": "Please provide a valid Email Address.",  # [I]
    "49": "Please provide a valid Start Date.",  # [I]
    "50": "Please provide a valid End Date.",  # [I]
    "51": "Please provide a valid Batch Number.",  # [I]
    "52": "Please provide a valid Swipe.",  # [I]
    "53": "Please provide a valid Protect hpf_token and enc_key.",  # [I]
    "54": "Please provide valid line items.",  # [I]
    "58": "Please provide a valid Transaction ID.",  # [C]
    # [C] S2's checks/refund fixture; its checks/manage one reads "The Check ID that you have
    # provided was not found in the PayTrace records. It may already be voided or settled."
    "80": "The Check ID that you provided was not found in the PayTrace record.",
    "171": "Please provide a unique customer ID.",  # [C]
    "811": "The Transaction ID that you provided was not found.",  # [C]
    "816": (  # [C]
        "The Transaction ID that you provided could not be captured. Only uncaptured, "
        "approved authorizations can be captured."
    ),
    "817": (  # [C] (two spaces before "Please" are PayTrace's)
        "The Transaction ID that you provided could not be refunded. Only settled "
        "transactions can be refunded.  Please try to void the transaction instead."
    ),
    "818": (  # [C]
        "The Transaction ID that you provided could not be voided. Only transactions that "
        "are pending settlement can be voided."
    ),
    "819": (  # [I]
        "The amount that you provided exceeds the amount remaining to be refunded on "
        "Transaction ID {transaction_id}."
    ),
    "820": (  # [I]
        "Visa/MasterCard enhanced data can only be added to approved, unsettled "
        "transactions of the matching card type."
    ),
    "821": "The Check ID that you provided could not be managed in its current state.",  # [I]
    "822": "There are no pending transactions to settle.",  # [I]
    "823": "The Batch Number that you provided was not found.",  # [I]
    "981": "Log in failed for insufficient permissions.",  # [C]
    "999": "The request body could not be parsed as a JSON object.",  # [I]
    "996": (  # [I] the account's "Duplicate Transaction Time" filter
        "This transaction appears to be a duplicate of Transaction ID {transaction_id}. "
        "Duplicate transactions are blocked for {minutes} minutes."
    ),
}


class ApiError(Exception):
    """A ``response_code: 1`` answer: ``errors`` maps codes to messages.

    ``extra`` holds the fields PayTrace appends after ``errors`` on that endpoint
    (``external_transaction_id``, ``masked_card_number``), in wire order.
    """

    def __init__(self, errors: dict[str, list[str]], extra: Json | None = None) -> None:
        super().__init__(", ".join(errors))
        self.errors = errors
        self.extra: Json = extra or {}


def as_obj(value: object) -> Json:
    """``value`` if it is a JSON object, else an empty one."""
    return cast("Json", value) if isinstance(value, dict) else {}


def error_body(errors: dict[str, list[str]], extra: Json) -> Json:
    body: Json = {
        "success": False,
        "response_code": 1,
        "status_message": ERRORS_OCCURRED,
        "errors": errors,
    }
    body.update(extra)
    return body


def err(code: str, **fmt: object) -> dict[str, list[str]]:
    """``{"<code>": ["<text>"]}`` with the text's placeholders filled in."""
    return {code: [MSG[code].format(**fmt)]}
