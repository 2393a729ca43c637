"""``mapping suggest``: a plausible mapping for an unmapped object, each with a reason."""

from __future__ import annotations

from typing import Any

from paysync_core.config._load import _toml_loads  # pyright: ignore[reportPrivateUsage]
from paysync_core.mapping._suggest import (
    PAYMENT_TARGETS,
    SourceField,
    TargetField,
    suggest_mapping,
    suggestions_to_toml,
)

# A custom payment object of another org: none of its names match ours exactly.
ORG_FIELDS = (
    SourceField("Id", "id", "Record ID", ("a0B5e00000AbCdEAAV",)),
    SourceField("Name", "string", "Payment Name", ("PAY-0001",)),
    SourceField("OwnerId", "reference", "Owner ID", ("0055e000001AbCdAAK",)),
    SourceField("CreatedDate", "datetime", "Created Date", ("2026-03-01T10:00:00.000+0000",)),
    SourceField("Gateway_Txn_Number__c", "string", "Gateway Transaction #", ("1195", "1203")),
    SourceField("Charge_Total__c", "currency", "Charge Total", ("12.50", "100.00")),
    SourceField("Card_Last_Four__c", "string", "Card Last Four", ("1111", "5439")),
    SourceField("Payment_State__c", "picklist", "Payment State", ("Approved", "Declined")),
    SourceField("Paid_On__c", "datetime", "Paid On", ("2026-03-01T10:00:00.000+0000",)),
    SourceField("Customer__c", "reference", "Customer", ("0015e00000AbCdEAAV",)),
    SourceField("Deal__c", "reference", "Opportunity (Deal)", ("0065e00000AbCdEAAV",)),
    SourceField("Notes__c", "textarea", "Notes", ("call back",)),
)


def test_suggests_the_obvious_fields_with_reasons() -> None:
    chosen = {s.target: s for s in suggest_mapping(PAYMENT_TARGETS, ORG_FIELDS)}
    assert chosen["amount"].source == "Charge_Total__c"
    assert chosen["last4"].source == "Card_Last_Four__c"
    assert chosen["status"].source == "Payment_State__c"
    assert chosen["transaction_id"].source == "Gateway_Txn_Number__c"
    assert chosen["account"].source == "Customer__c"
    assert chosen["opportunity"].source == "Deal__c"
    assert chosen["processed_at"].source == "Paid_On__c"
    assert "samples look like money" in chosen["amount"].reason
    assert "type currency fits decimal" in chosen["amount"].reason
    assert 0 < chosen["amount"].confidence <= 1


def test_each_source_field_is_suggested_once_and_type_mismatches_lose() -> None:
    suggestions = suggest_mapping(PAYMENT_TARGETS, ORG_FIELDS)
    sources = [s.source for s in suggestions if s.source is not None]
    assert len(sources) == len(set(sources))
    # A text field named like an amount must not beat nothing when its type cannot hold money.
    only_text = suggest_mapping(
        (TargetField("amount", "decimal", ("total",), "money"),),
        (SourceField("Amount_Text__c", "textarea", "Amount (text)", ("twelve",)),),
        threshold=0.5,
    )
    assert only_text[0].source is None
    assert only_text[0].reason == "no plausible field"


def test_snippet_is_valid_toml_for_review() -> None:
    suggestions = suggest_mapping(PAYMENT_TARGETS, ORG_FIELDS)
    snippet = suggestions_to_toml(
        "usecases.order_to_cash.payment_fields", suggestions, title="Payment__c of Acme"
    )
    parsed: dict[str, Any] = _toml_loads(snippet)
    table = parsed["usecases"]["order_to_cash"]["payment_fields"]
    assert table["amount"] == "Charge_Total__c"
    assert "nothing was applied" in snippet
    unmatched = [s.target for s in suggestions if s.source is None]
    for target in unmatched:
        assert f"# {target} = ?" in snippet
