"""Use case 1 writes the payment back onto the Opportunity (or Order) that started it when
``source_fields`` names the fields: transaction id, status and amount, once, after the
charge; a re-run writes nothing new. Emulators in-process, SQLite ledger."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from pydantic import ValidationError

from paysync_core import FlowState
from paysync_core.usecases import OrderToCashConfig

if TYPE_CHECKING:
    from conftest import Emulated, EmulatedFactory

SOURCE_FIELDS = {
    "transaction_id": "PayTrace_Transaction_ID__c",
    "status": "Payment_Status__c",
    "amount": "Paid_Amount__c",
}


def _opportunity(env: Emulated, opportunity_id: str) -> dict[str, Any]:
    [record] = env.records(
        "SELECT PayTrace_Transaction_ID__c, Payment_Status__c, Paid_Amount__c, "
        "LastModifiedDate FROM Opportunity WHERE Id = {}",
        opportunity_id,
    )
    return record


@pytest.fixture
def env(emulated: EmulatedFactory) -> Emulated:
    return emulated.for_order_to_cash(fields={"Opportunity": tuple(SOURCE_FIELDS.values())})


def test_opportunity_gets_transaction_status_and_amount_once(env: Emulated) -> None:
    usecase = env.order_to_cash(source_fields=SOURCE_FIELDS)
    engine = env.engine([usecase.definition()])
    won = env.closed_won("Acme write-back", "88.10", env.account_id())
    declined = env.closed_won("Acme declined", "0.29", env.account_id())
    for record in (won, declined):
        flow = usecase.submit_opportunity(engine, record)
        assert flow is not None
        assert engine.run_flow(flow.flow_id).state is FlowState.SUCCEEDED

    [sale] = env.exported(f"SF-{won['Id']}")
    written = _opportunity(env, won["Id"])
    assert written["PayTrace_Transaction_ID__c"] == str(sale.transaction_id)
    assert written["Payment_Status__c"] == "Captured"
    assert Decimal(str(written["Paid_Amount__c"])) == Decimal("88.10")
    assert _opportunity(env, declined["Id"])["Payment_Status__c"] == "Failed"

    # submitted again: the same flow, nothing written again
    again = usecase.submit_opportunity(engine, won)
    assert again is not None
    assert engine.run_pending(max_workers=1).processed == 0
    assert _opportunity(env, won["Id"])["LastModifiedDate"] == written["LastModifiedDate"]


def test_without_source_fields_the_opportunity_is_left_alone(env: Emulated) -> None:
    usecase = env.order_to_cash()
    engine = env.engine([usecase.definition()])
    won = env.closed_won("Acme untouched", "12.00", env.account_id())
    flow = usecase.submit_opportunity(engine, won)
    assert flow is not None
    assert engine.run_flow(flow.flow_id).state is FlowState.SUCCEEDED
    assert _opportunity(env, won["Id"])["PayTrace_Transaction_ID__c"] is None
    step = next(s for s in engine.steps(flow.flow_id) if s.name == "salesforce_source")
    assert step.external_ids["skipped"] == "no source_fields configured"


def test_unknown_source_value_is_named() -> None:
    with pytest.raises(ValidationError, match=r"source_fields\.approval: not a payment value"):
        OrderToCashConfig(source_fields={"approval": "Approval__c"})
