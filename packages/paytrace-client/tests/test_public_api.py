"""Pin the public surface: a name added or removed here is a deliberate API change."""

from __future__ import annotations

import paytrace_client

EXPECTED = [
    "DEFAULT_EXPORT_TIMEZONE",
    "PRODUCTION_URL",
    "SANDBOX_URL",
    "AccessToken",
    "Address",
    "AmountInput",
    "Batch",
    "Batches",
    "CallKind",
    "Check",
    "CheckExtras",
    "CheckResult",
    "Checks",
    "ClientKey",
    "CreditCard",
    "CustomerExtras",
    "CustomerRecord",
    "CustomerResult",
    "Customers",
    "ExportTransactionType",
    "ExportedAddress",
    "ExportedCheck",
    "ExportedCreditCard",
    "ExportedTransaction",
    "Exports",
    "Level3Data",
    "Level3LineItem",
    "LevelThree",
    "LookupHint",
    "LookupOutcome",
    "LookupResult",
    "PasswordGrant",
    "PayTraceAPIError",
    "PayTraceAuthError",
    "PayTraceClient",
    "PayTraceConnectionError",
    "PayTraceDeclinedError",
    "PayTraceDuplicateError",
    "PayTraceError",
    "PayTraceHTTPError",
    "PayTraceInputError",
    "PayTraceNotFoundError",
    "PayTraceOutcomeUnknownError",
    "PayTraceRateLimitError",
    "PayTraceResponse",
    "PayTraceStateError",
    "PayTraceStatusError",
    "PayTraceTimeoutError",
    "PayTraceValidationError",
    "Protect",
    "ProtectToken",
    "RequestOptions",
    "RetryConfig",
    "StaticToken",
    "SwipeData",
    "Timeouts",
    "TransactionCreated",
    "TransactionExtras",
    "TransactionResult",
    "Transactions",
    "card_brand",
    "luhn_valid",
    "mask_pan",
    "routing_number_valid",
]


def test_all_is_pinned() -> None:
    assert sorted(paytrace_client.__all__) == sorted(EXPECTED)


def test_every_public_name_is_exported_and_importable() -> None:
    public = {
        name
        for name in vars(paytrace_client)
        if not name.startswith("_") and name not in {"models", "resources", "emulator", "demo"}
    }
    assert public == set(EXPECTED)
    for name in EXPECTED:
        assert getattr(paytrace_client, name) is not None


def test_every_exception_derives_from_the_root() -> None:
    errors = [getattr(paytrace_client, n) for n in EXPECTED if n.endswith("Error")]
    assert errors
    for error in errors:
        assert issubclass(error, paytrace_client.PayTraceError)
