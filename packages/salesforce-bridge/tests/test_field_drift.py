"""Describe-based mapping checks: every problem of a mapping is listed, with our field name."""

from __future__ import annotations

import pytest

from salesforce_bridge import (
    FieldProblem,
    PasswordGrant,
    SalesforceBridge,
    SalesforceFieldDriftError,
)
from salesforce_bridge.emulator import (
    DEFAULT_BASE_URL,
    FieldDef,
    SalesforceEmulator,
    emulator_session,
)


def make_bridge(emulator: SalesforceEmulator) -> SalesforceBridge:
    grant = PasswordGrant(
        client_id="c", client_secret="s", username="u", password="p", login_url=DEFAULT_BASE_URL
    )
    return SalesforceBridge(grant=grant, session=emulator_session(emulator))


MAPPING = {
    "payment_id": "Payment_ID__c",
    "amount": "Amount__c",
    "last4": "Last4Digits__c",
    "gateway": "Gateway__c",
    "name": "Name",
}


def test_drift_lists_each_problem_with_the_mapping_key() -> None:
    bridge = make_bridge(SalesforceEmulator())  # the seeded org has no Gateway__c
    with pytest.raises(SalesforceFieldDriftError) as info:
        bridge.validate_fields("Payment__c", MAPPING, for_update=True)
    problems = info.value.problems
    assert {(p.sobject, p.field, p.problem, p.mapped_from) for p in problems} == {
        ("Payment__c", "Gateway__c", "missing", "gateway"),
        ("Payment__c", "Name", "not createable", "name"),
        ("Payment__c", "Name", "not updateable", "name"),
    }
    assert len(problems) == 3
    message = str(info.value)
    assert "Payment__c.Gateway__c (mapped from gateway): missing" in message
    assert "Payment__c.Name (mapped from name): not createable" in message


def test_the_same_mapping_passes_once_the_org_has_the_field() -> None:
    emulator = SalesforceEmulator()
    payment = emulator.org.obj("Payment__c").with_fields(FieldDef("Gateway__c"))
    emulator = SalesforceEmulator(objects=[payment])
    bridge = make_bridge(emulator)
    mapping = {k: v for k, v in MAPPING.items() if k != "name"}
    bridge.validate_fields("Payment__c", mapping, for_update=True)
    assert bridge.check_fields("Payment__c", ["Name"]) == [
        FieldProblem(sobject="Payment__c", field="Name", problem="not createable")
    ]
