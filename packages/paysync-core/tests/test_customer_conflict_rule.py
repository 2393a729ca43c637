"""Use case 5's conflict rule: per field group, who wins, and why (each decision explained)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from oracle_fusion_client import AccountAddress, CustomerAccountDetails
from paysync_core.mapping import (
    CustomerConflictRule,
    decide_group,
    groups_from_fusion,
    groups_from_paytrace,
)
from paytrace_client.models import CustomerRecord

RULE = CustomerConflictRule()
BASE = {"name": "Northwind", "billing_address": {"street": "1 A St."}, "email": "a@x.example"}


def _decide(group: str, incoming: object, current: object, **kw: object) -> tuple[bool, str]:
    rule = kw.get("rule", RULE)
    assert isinstance(rule, CustomerConflictRule)
    decision = decide_group(
        group,
        source="fusion",
        target="salesforce",
        incoming={group: incoming},
        current={group: current},
        base=BASE if kw.get("base", True) else None,
        rule=rule,
    )
    return decision.value, decision.reason


def test_only_the_source_changed_it_goes() -> None:
    assert _decide("name", "Northwind Ltd", "Northwind") == (
        True,
        "name: changed in fusion, not in salesforce: fusion wins",
    )


def test_first_sync_without_base_the_source_goes() -> None:
    assert _decide("name", "Northwind Ltd", "Other", base=False)[0] is True


def test_an_empty_field_never_erases_without_a_sync_having_seen_it_set() -> None:
    assert _decide("email", None, "ap@x.example", base=False) == (
        False,
        "email: fusion holds none and no sync has seen it set: salesforce's kept",
    )
    # a sync saw it set, then it was cleared in the source: the clearing goes
    assert _decide("email", None, "a@x.example")[0] is True


def test_equal_values_write_nothing() -> None:
    assert _decide("name", "Northwind", "Northwind") == (False, "name: salesforce already has it")


def test_a_group_the_source_did_not_change_keeps_the_targets_edit() -> None:
    write, reason = _decide("name", "Northwind", "Northwind Foods")
    assert write is False
    assert "unchanged in fusion; salesforce's own change is kept" in reason


def test_both_changed_the_rule_order_decides() -> None:
    assert _decide("name", "Fusion Name", "SF Name") == (
        False,
        "name: changed in both fusion and salesforce since the last sync: salesforce wins "
        "(conflict rule salesforce > fusion > paytrace)",
    )
    fusion_first = CustomerConflictRule.model_validate(
        {"name": ["fusion", "salesforce", "paytrace"]}
    )
    assert _decide("name", "Fusion Name", "SF Name", rule=fusion_first)[0] is True


def test_a_group_the_source_does_not_hold_is_not_written() -> None:
    decision = decide_group(
        "email", source="fusion", target="paytrace", incoming={}, current={}, base=None, rule=RULE
    )
    assert (decision.value, decision.reason) == (False, "email: fusion does not hold it")


def test_rule_must_list_each_system_once() -> None:
    with pytest.raises(ValidationError, match="must list salesforce, paytrace and fusion once"):
        CustomerConflictRule.model_validate({"email": ["salesforce", "salesforce", "fusion"]})
    with pytest.raises(ValidationError, match="billing_address"):
        CustomerConflictRule.model_validate({"billing_address": ["fusion"]})


def test_groups_read_from_paytrace_and_fusion_are_canonical() -> None:
    record = CustomerRecord.model_validate(
        {
            "customer_id": "sf-1",
            "credit_card": {"masked_number": "xxxxxxxxxxxx5439"},
            "billing_address": {
                "name": "Northwind",
                "street_address": "500  Main street",
                "city": "SEATTLE",
                "state": "Washington",
                "zip": "981011234",
            },
            "email": "AP@Northwind.Example",
        }
    )
    groups = groups_from_paytrace(record).value
    assert groups["billing_address"] == {
        "street": "500 Main St.",
        "city": "Seattle",
        "region": "WA",
        "postal_code": "98101-1234",
        "country": "US",
    }
    assert groups["email"] == "ap@northwind.example"
    assert "5439" not in str(groups)  # the card is never read
    fusion = CustomerAccountDetails(
        account_number="1",
        party_id=2,
        party_name="Northwind",
        address=AccountAddress(address1="500 Main St.", city="Seattle", state="WA"),
    )
    from_fusion = groups_from_fusion(fusion)
    assert "email" not in from_fusion.value
    assert from_fusion.value["billing_address"]["street"] == "500 Main St."
    assert "no email in Fusion" in from_fusion.reason
