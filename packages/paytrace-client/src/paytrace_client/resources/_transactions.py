"""``client.transactions``: card sales, authorizations and their follow-ups (``transactions/*``)."""

from __future__ import annotations

from typing import Any

from typing_extensions import Unpack

from paytrace_client._errors import PayTraceInputError
from paytrace_client._requester import CallKind, RequestOptions, WriteCorrelation
from paytrace_client._wire import format_amount, parse_amount
from paytrace_client.models import (
    AmountInput,
    CreditCard,
    PayTraceResponse,
    ProtectToken,
    SwipeData,
    TransactionExtras,
    TransactionResult,
)
from paytrace_client.models._payment_inputs import validate_csc
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

__all__ = ["Transactions"]

_EXTRA_KEYS = frozenset(TransactionExtras.__optional_keys__)


def _csc(card: CreditCard | None, extras: TransactionExtras) -> str | None:
    given = extras.get("csc")
    if given is not None:
        given = validate_csc(given)
    if card is not None and card.csc is not None:
        if given is not None and given != card.csc:
            raise PayTraceInputError("csc", "differs from the CSC of credit_card")
        return card.csc
    return given


def _put_extras(body: dict[str, Any], extras: TransactionExtras, card: CreditCard | None) -> None:
    csc = _csc(card, extras)
    if csc is not None:
        body["csc"] = csc
    put_address(body, "billing_address", extras.get("billing_address"))
    put_address(body, "shipping_address", extras.get("shipping_address"))
    put_email(body, extras.get("email"))
    for key in ("phone", "invoice_id", "description", "customer_reference_id"):
        put_text(body, key, extras.get(key))
    put_amount(body, "tax_amount", extras.get("tax_amount"))
    put_amount(body, "freight_amount", extras.get("freight_amount"))
    put_data(body, extras.get("discretionary_data"))


def _card(card: CreditCard) -> dict[str, str]:
    if not isinstance(card, CreditCard):  # pyright: ignore[reportUnnecessaryIsInstance] - runtime guard
        raise PayTraceInputError("credit_card", "must be a CreditCard")
    return card.to_wire()


def _token(token: ProtectToken) -> dict[str, str]:
    if not isinstance(token, ProtectToken):  # pyright: ignore[reportUnnecessaryIsInstance] - runtime guard
        raise PayTraceInputError("hpf_token", "must be a ProtectToken")
    return token.to_wire()


class Transactions(Resource):
    """Card transactions. Every method is a write: a lost response raises
    ``PayTraceOutcomeUnknownError`` carrying the invoice id and amount to look it up by."""

    def _money(
        self,
        path: str,
        amount: AmountInput,
        source: dict[str, Any],
        *,
        method: str,
        extras: TransactionExtras,
        options: RequestOptions | None,
        card: CreditCard | None = None,
    ) -> TransactionResult:
        check_extras(extras, _EXTRA_KEYS, method)
        body: dict[str, Any] = {"amount": format_amount(amount), **source}
        _put_extras(body, extras, card)
        correlation = WriteCorrelation(
            invoice_id=body.get("invoice_id"),
            amount=parse_amount(amount),
            customer_id=body.get("customer_id"),
        )
        return self._write(path, body, correlation, options)

    def _write(
        self,
        path: str,
        body: dict[str, Any],
        correlation: WriteCorrelation,
        options: RequestOptions | None,
    ) -> TransactionResult:
        data = self._requester.call(
            path, body, kind=CallKind.WRITE, correlation=correlation, options=options
        )
        return TransactionResult.model_validate(data)

    # -- sales ---------------------------------------------------------------------------------

    def sale_keyed(
        self,
        amount: AmountInput,
        credit_card: CreditCard,
        *,
        options: RequestOptions | None = None,
        **extras: Unpack[TransactionExtras],
    ) -> TransactionResult:
        """Card-not-present sale: ``transactions/sale/keyed``; approved = 101."""
        source = {"credit_card": _card(credit_card)}
        return self._money(
            "transactions/sale/keyed",
            amount,
            source,
            method="sale_keyed",
            extras=extras,
            options=options,
            card=credit_card,
        )

    def sale_swiped(
        self,
        amount: AmountInput,
        swipe: SwipeData,
        *,
        options: RequestOptions | None = None,
        **extras: Unpack[TransactionExtras],
    ) -> TransactionResult:
        """Sale with magnetic-stripe track data: ``transactions/sale/swiped``; approved = 101."""
        if not isinstance(swipe, SwipeData):  # pyright: ignore[reportUnnecessaryIsInstance] - runtime guard
            raise PayTraceInputError("swipe", "must be SwipeData")
        source = {"swipe": swipe.track_data}
        return self._money(
            "transactions/sale/swiped",
            amount,
            source,
            method="sale_swiped",
            extras=extras,
            options=options,
        )

    def sale_by_customer(
        self,
        amount: AmountInput,
        customer_id: str,
        *,
        options: RequestOptions | None = None,
        **extras: Unpack[TransactionExtras],
    ) -> TransactionResult:
        """Sale on a vault profile: ``transactions/sale/by_customer``; approved = 101."""
        source = {"customer_id": required_text(customer_id, "customer_id")}
        return self._money(
            "transactions/sale/by_customer",
            amount,
            source,
            method="sale_by_customer",
            extras=extras,
            options=options,
        )

    def sale_protect(
        self,
        amount: AmountInput,
        token: ProtectToken,
        *,
        options: RequestOptions | None = None,
        **extras: Unpack[TransactionExtras],
    ) -> TransactionResult:
        """Sale with a PayTrace Protect token: ``transactions/sale/pt_protect``; approved = 101."""
        return self._money(
            "transactions/sale/pt_protect",
            amount,
            _token(token),
            method="sale_protect",
            extras=extras,
            options=options,
        )

    def sale_protect_customer(
        self,
        amount: AmountInput,
        token: ProtectToken,
        customer_id: str,
        *,
        options: RequestOptions | None = None,
        **extras: Unpack[TransactionExtras],
    ) -> TransactionResult:
        """Protect sale that also creates vault profile ``customer_id``:
        ``transactions/sale/pt_protect_customer``; approved = 101 (inferred, undocumented)."""
        source = {"customer_id": required_text(customer_id, "customer_id"), **_token(token)}
        path = "transactions/sale/pt_protect_customer"
        return self._money(
            path, amount, source, method="sale_protect_customer", extras=extras, options=options
        )

    # -- authorizations ------------------------------------------------------------------------

    def authorize_keyed(
        self,
        amount: AmountInput,
        credit_card: CreditCard,
        *,
        options: RequestOptions | None = None,
        **extras: Unpack[TransactionExtras],
    ) -> TransactionResult:
        """Authorization only: ``transactions/authorization/keyed``; approved = 101."""
        source = {"credit_card": _card(credit_card)}
        path = "transactions/authorization/keyed"
        return self._money(
            path,
            amount,
            source,
            method="authorize_keyed",
            extras=extras,
            options=options,
            card=credit_card,
        )

    def authorize_by_customer(
        self,
        amount: AmountInput,
        customer_id: str,
        *,
        options: RequestOptions | None = None,
        **extras: Unpack[TransactionExtras],
    ) -> TransactionResult:
        """Authorization on a vault profile: ``transactions/authorization/by_customer``;
        approved = 101."""
        source = {"customer_id": required_text(customer_id, "customer_id")}
        path = "transactions/authorization/by_customer"
        return self._money(
            path, amount, source, method="authorize_by_customer", extras=extras, options=options
        )

    def authorize_protect(
        self,
        amount: AmountInput,
        token: ProtectToken,
        *,
        options: RequestOptions | None = None,
        **extras: Unpack[TransactionExtras],
    ) -> TransactionResult:
        """Authorization with a Protect token: ``transactions/authorization/pt_protect``;
        approved = 101."""
        path = "transactions/authorization/pt_protect"
        return self._money(
            path, amount, _token(token), method="authorize_protect", extras=extras, options=options
        )

    # -- follow-ups ----------------------------------------------------------------------------

    def _follow_up(
        self,
        path: str,
        transaction_id: int,
        amount: AmountInput | None,
        options: RequestOptions | None,
    ) -> TransactionResult:
        body: dict[str, Any] = {"transaction_id": positive_int(transaction_id, "transaction_id")}
        put_amount(body, "amount", amount)
        correlation = WriteCorrelation(
            transaction_id=transaction_id,
            amount=parse_amount(amount) if amount is not None else None,
        )
        return self._write(path, body, correlation, options)

    def capture(
        self,
        transaction_id: int,
        amount: AmountInput | None = None,
        *,
        options: RequestOptions | None = None,
    ) -> TransactionResult:
        """Capture an authorization, fully or for a smaller ``amount``:
        ``transactions/authorization/capture``; captured = 112."""
        path = "transactions/authorization/capture"
        return self._follow_up(path, transaction_id, amount, options)

    def void(
        self, transaction_id: int, *, options: RequestOptions | None = None
    ) -> TransactionResult:
        """Void a transaction pending settlement: ``transactions/void``; voided = 109
        (818 -> ``PayTraceStateError`` once settled)."""
        return self._follow_up("transactions/void", transaction_id, None, options)

    def refund_transaction(
        self,
        transaction_id: int,
        amount: AmountInput | None = None,
        *,
        invoice_id: str | None = None,
        options: RequestOptions | None = None,
    ) -> TransactionResult:
        """Refund a settled transaction, fully or partly: ``transactions/refund/for_transaction``;
        refunded = 106 (817 -> ``PayTraceStateError`` while unsettled).

        ``invoice_id`` labels the refund itself (else it inherits the sale's), so a refund whose
        answer was lost can be found again in the exports."""
        path = "transactions/refund/for_transaction"
        if invoice_id is None:
            return self._follow_up(path, transaction_id, amount, options)
        body: dict[str, Any] = {"transaction_id": positive_int(transaction_id, "transaction_id")}
        put_amount(body, "amount", amount)
        put_text(body, "invoice_id", required_text(invoice_id, "invoice_id"))
        correlation = WriteCorrelation(
            transaction_id=transaction_id,
            invoice_id=invoice_id,
            amount=parse_amount(amount) if amount is not None else None,
        )
        return self._write(path, body, correlation, options)

    def refund_keyed(
        self,
        amount: AmountInput,
        credit_card: CreditCard,
        *,
        options: RequestOptions | None = None,
        **extras: Unpack[TransactionExtras],
    ) -> TransactionResult:
        """Unreferenced refund to a card: ``transactions/refund/keyed``; refunded = 106."""
        source = {"credit_card": _card(credit_card)}
        path = "transactions/refund/keyed"
        return self._money(
            path,
            amount,
            source,
            method="refund_keyed",
            extras=extras,
            options=options,
            card=credit_card,
        )

    def refund_to_customer(
        self,
        amount: AmountInput,
        customer_id: str,
        *,
        options: RequestOptions | None = None,
        **extras: Unpack[TransactionExtras],
    ) -> TransactionResult:
        """Refund to a vault profile: ``transactions/refund/to_customer``; refunded = 106."""
        source = {"customer_id": required_text(customer_id, "customer_id")}
        path = "transactions/refund/to_customer"
        return self._money(
            path, amount, source, method="refund_to_customer", extras=extras, options=options
        )

    # -- other ---------------------------------------------------------------------------------

    def email_receipt(
        self, transaction_id: int, email: str, *, options: RequestOptions | None = None
    ) -> PayTraceResponse:
        """E-mail the receipt of a transaction: ``transactions/email_receipt``; sent = 149."""
        body: dict[str, Any] = {"transaction_id": positive_int(transaction_id, "transaction_id")}
        put_email(body, required_text(email, "email"))
        data = self._requester.call(
            "transactions/email_receipt",
            body,
            kind=CallKind.WRITE,
            correlation=WriteCorrelation(transaction_id=transaction_id),
            options=options,
        )
        return PayTraceResponse.model_validate(data)

    def settle(self, *, options: RequestOptions | None = None) -> PayTraceResponse:
        """Settle the pending batch now: ``transactions/settle`` (used by sandbox tests; its
        success code is undocumented, any ``success: true`` answer is accepted)."""
        data = self._requester.call(
            "transactions/settle", {}, kind=CallKind.WRITE, correlation=None, options=options
        )
        return PayTraceResponse.model_validate(data)
