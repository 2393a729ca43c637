"""``client.checks``: ACH (e-check) sales, holds, management, refunds and the (inferred)
check export (``checks/*``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, tzinfo
from typing import Any

from typing_extensions import Unpack

from paytrace_client._errors import PayTraceInputError
from paytrace_client._requester import CallKind, Requester, RequestOptions, WriteCorrelation
from paytrace_client._wire import format_amount, format_request_date, parse_amount
from paytrace_client.models import (
    DEFAULT_EXPORT_TIMEZONE,
    AmountInput,
    Check,
    CheckExtras,
    CheckResult,
    ExportedCheckTransaction,
)
from paytrace_client.models._validate import positive_int, required_text

from ._base import (
    Resource,
    check_extras,
    put_address,
    put_amount,
    put_data,
    put_email,
    put_text,
)

__all__ = ["Checks"]

_EXTRA_KEYS = frozenset(CheckExtras.__optional_keys__)


def _account(check: Check) -> dict[str, Any]:
    if not isinstance(check, Check):  # pyright: ignore[reportUnnecessaryIsInstance] - runtime guard
        raise PayTraceInputError("check", "must be a Check")
    return {"check": check.to_wire()}


def _customer(customer_id: str) -> dict[str, Any]:
    return {"customer_id": required_text(customer_id, "customer_id")}


def parse_checks(data: Mapping[str, Any], tz: tzinfo) -> list[ExportedCheckTransaction]:
    """The ``checks[]`` of a check export answer, timestamps read in ``tz``."""
    records: list[Any] = data.get("checks") or []
    return [ExportedCheckTransaction.model_validate(r, context={"tz": tz}) for r in records]


class Checks(Resource):
    """ACH payments. Every method is a write; processed = 120, refunded = 122, managed = 124,
    and 125 ("NOT successfully processed") is raised as ``PayTraceDeclinedError``.
    ``tz`` is the zone of the check export's timestamps."""

    def __init__(self, requester: Requester, *, tz: tzinfo = DEFAULT_EXPORT_TIMEZONE) -> None:
        super().__init__(requester)
        self._tz = tz

    def _call(
        self,
        path: str,
        body: dict[str, Any],
        correlation: WriteCorrelation,
        options: RequestOptions | None,
    ) -> CheckResult:
        data = self._requester.call(
            path, body, kind=CallKind.WRITE, correlation=correlation, options=options
        )
        return CheckResult.model_validate(data)

    def _money(
        self,
        path: str,
        amount: AmountInput,
        source: dict[str, Any],
        *,
        method: str,
        extras: CheckExtras,
        options: RequestOptions | None,
    ) -> CheckResult:
        check_extras(extras, _EXTRA_KEYS, method)
        body: dict[str, Any] = {"amount": format_amount(amount), **source}
        put_address(body, "billing_address", extras.get("billing_address"))
        put_address(body, "shipping_address", extras.get("shipping_address"))
        put_email(body, extras.get("email"))
        for key in ("phone", "invoice_id", "description"):
            put_text(body, key, extras.get(key))
        put_data(body, extras.get("discretionary_data"))
        correlation = WriteCorrelation(
            invoice_id=body.get("invoice_id"),
            amount=parse_amount(amount),
            customer_id=body.get("customer_id"),
        )
        return self._call(path, body, correlation, options)

    def _manage(
        self,
        path: str,
        check_transaction_id: int,
        amount: AmountInput | None,
        options: RequestOptions | None,
    ) -> CheckResult:
        ident = positive_int(check_transaction_id, "check_transaction_id")
        body: dict[str, Any] = {"check_transaction_id": ident}
        put_amount(body, "amount", amount)
        correlation = WriteCorrelation(
            check_transaction_id=ident,
            amount=parse_amount(amount) if amount is not None else None,
        )
        return self._call(path, body, correlation, options)

    def sale_by_account(
        self,
        amount: AmountInput,
        check: Check,
        *,
        options: RequestOptions | None = None,
        **extras: Unpack[CheckExtras],
    ) -> CheckResult:
        """ACH debit of a bank account: ``checks/sale/by_account``; processed = 120."""
        return self._money(
            "checks/sale/by_account",
            amount,
            _account(check),
            method="sale_by_account",
            extras=extras,
            options=options,
        )

    def sale_by_customer(
        self,
        amount: AmountInput,
        customer_id: str,
        *,
        options: RequestOptions | None = None,
        **extras: Unpack[CheckExtras],
    ) -> CheckResult:
        """ACH debit of a vault profile's account: ``checks/sale/by_customer``; processed = 120."""
        return self._money(
            "checks/sale/by_customer",
            amount,
            _customer(customer_id),
            method="sale_by_customer",
            extras=extras,
            options=options,
        )

    def hold_by_account(
        self,
        amount: AmountInput,
        check: Check,
        *,
        options: RequestOptions | None = None,
        **extras: Unpack[CheckExtras],
    ) -> CheckResult:
        """ACH debit held until funded: ``checks/hold/by_account``; processed = 120."""
        return self._money(
            "checks/hold/by_account",
            amount,
            _account(check),
            method="hold_by_account",
            extras=extras,
            options=options,
        )

    def hold_by_customer(
        self,
        amount: AmountInput,
        customer_id: str,
        *,
        options: RequestOptions | None = None,
        **extras: Unpack[CheckExtras],
    ) -> CheckResult:
        """Held ACH debit of a vault profile: ``checks/hold/by_customer``; processed = 120."""
        return self._money(
            "checks/hold/by_customer",
            amount,
            _customer(customer_id),
            method="hold_by_customer",
            extras=extras,
            options=options,
        )

    def fund(
        self,
        check_transaction_id: int,
        amount: AmountInput | None = None,
        *,
        options: RequestOptions | None = None,
    ) -> CheckResult:
        """Release a held check, optionally for less: ``checks/manage/fund``; managed = 124."""
        return self._manage("checks/manage/fund", check_transaction_id, amount, options)

    def void(
        self, check_transaction_id: int, *, options: RequestOptions | None = None
    ) -> CheckResult:
        """Void an unprocessed check: ``checks/manage/void``; managed = 124."""
        return self._manage("checks/manage/void", check_transaction_id, None, options)

    def refund_transaction(
        self,
        check_transaction_id: int,
        amount: AmountInput | None = None,
        *,
        options: RequestOptions | None = None,
    ) -> CheckResult:
        """Refund a check, fully or partly: ``checks/refund/by_transaction``; refunded = 122."""
        return self._manage("checks/refund/by_transaction", check_transaction_id, amount, options)

    def refund_by_account(
        self,
        amount: AmountInput,
        check: Check,
        *,
        options: RequestOptions | None = None,
        **extras: Unpack[CheckExtras],
    ) -> CheckResult:
        """Unreferenced ACH credit to a bank account: ``checks/refund/by_account``;
        refunded = 122."""
        return self._money(
            "checks/refund/by_account",
            amount,
            _account(check),
            method="refund_by_account",
            extras=extras,
            options=options,
        )

    def export(
        self,
        start: date,
        end: date,
        *,
        check_transaction_id: int | None = None,
        customer_id: str | None = None,
        options: RequestOptions | None = None,
    ) -> list[ExportedCheckTransaction]:
        """Checks created from ``start`` to ``end`` (inclusive, export zone):
        ``checks/export/by_date_range``, a read (safe to retry).

        **Inferred endpoint**: PayTrace's public v1 material shows no check export (the
        legacy API's ``ExportCheck`` had one); an account without it answers with an error,
        which the caller must treat as "cannot tell", never as "no such check".
        """
        body: dict[str, Any] = {
            "start_date": format_request_date(start),
            "end_date": format_request_date(end),
        }
        if check_transaction_id is not None:
            body["check_transaction_id"] = positive_int(
                check_transaction_id, "check_transaction_id"
            )
        put_text(body, "customer_id", customer_id)
        data = self._requester.call(
            "checks/export/by_date_range", body, kind=CallKind.READ, options=options
        )
        return parse_checks(data, self._tz)
