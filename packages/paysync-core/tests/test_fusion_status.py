"""The Fusion status map: canonical payment status -> Fusion action and states, explained;
validated so that a bad entry names its key."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from paysync_core.canonical import PaymentStatus
from paysync_core.mapping import FusionStatusMap, paytrace_export_status
from paytrace_client.models import ExportedTransaction

LA = ZoneInfo("America/Los_Angeles")


def test_default_map_is_todays_behaviour() -> None:
    default = FusionStatusMap()
    actions = {status: default.decide(status).value.action for status in PaymentStatus}
    assert actions == {
        PaymentStatus.AUTHORIZED: "none",
        PaymentStatus.CAPTURED: "receipt",
        PaymentStatus.SETTLED: "receipt",
        PaymentStatus.DECLINED: "none",
        PaymentStatus.ERROR: "none",
        PaymentStatus.VOIDED: "reverse_receipt",
        PaymentStatus.REFUNDED: "credit_memo",
    }
    settled = default.decide(PaymentStatus.SETTLED)
    assert settled.value.receipt_status == "Cleared"
    assert settled.reason == (
        "payment settled -> create the invoice and standard receipt, receipt Status Cleared "
        "expected (default Fusion status map)"
    )
    assert default.decide(PaymentStatus.DECLINED).reason == (
        "payment declined -> post nothing to Fusion (default Fusion status map)"
    )


def test_configured_entries_change_the_decision_and_say_so() -> None:
    configured = FusionStatusMap.model_validate(
        {
            "captured": {
                "action": "receipt",
                "receipt_status": "Remitted",
                "order_status": "DRAFT",
            },
            "refunded": {"action": "none"},
        }
    )
    captured = configured.decide(PaymentStatus.CAPTURED)
    assert (captured.value.receipt_status, captured.value.order_status) == ("Remitted", "DRAFT")
    assert captured.reason == (
        "payment captured -> create the invoice and standard receipt, receipt Status Remitted "
        "expected, Order Hub order DRAFT (configured Fusion status map)"
    )
    assert configured.decide(PaymentStatus.REFUNDED).value.action == "none"
    assert "configured" in configured.decide(PaymentStatus.REFUNDED).reason
    assert "default" in configured.decide(PaymentStatus.VOIDED).reason  # untouched entries


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"declined": {"action": "receipt"}}, "declined.action 'receipt' is not possible"),
        ({"refunded": {"action": "reverse_receipt"}}, "use one of credit_memo, none"),
        ({"voided": {"action": "none", "receipt_status": "Cleared"}}, "voided: receipt_status"),
        ({"captured": {"action": "receipt", "receipt_status": "Paid"}}, "captured.receipt_status"),
        ({"settled": {"action": "post"}}, "settled.action"),
        ({"chargeback": {"action": "none"}}, "chargeback"),
        ({"captured": {"action": "receipt", "order_status": "BOOKED"}}, "captured.order_status"),
    ],
)
def test_bad_entries_name_the_key(entry: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        FusionStatusMap.model_validate(entry)


def _record(**fields: object) -> ExportedTransaction:
    return ExportedTransaction.model_validate(
        {"transaction_id": 7, "transaction_type": "SALE", **fields}, context={"tz": LA}
    )


def test_export_records_map_to_canonical_statuses() -> None:
    pending = paytrace_export_status(_record(status_message="Pending Settlement"))
    assert pending.value is PaymentStatus.CAPTURED
    assert pending.reason == "PayTrace SALE status 'Pending Settlement', not settled yet"
    settled = _record(status_message="Settled", settled="3/2/2026 3:05:00 PM")
    assert paytrace_export_status(settled).value is PaymentStatus.SETTLED
    assert paytrace_export_status(_record(status_message="Voided")).value is PaymentStatus.VOIDED
    declined = paytrace_export_status(_record(status_message="Declined"))
    assert declined.value is PaymentStatus.DECLINED
    refund = paytrace_export_status(_record(transaction_type="REFUND", status_message="Settled"))
    assert refund.value is PaymentStatus.REFUNDED
