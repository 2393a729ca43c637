"""Mapping rules of use cases 4 and 5: decline reasons, chargeback codes and memos, customers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from paysync_core.chargebacks import (
    Chargeback,
    ChargebackConfig,
    DisputeCaseFields,
    chargeback_category,
    chargeback_to_case,
    chargeback_to_credit_memo,
)
from paysync_core.mapping import (
    CUSTOMER_FIELD_OWNERS,
    customer_from_account,
    customer_to_paytrace_address,
    decline_reason,
    paytrace_profile_differences,
)
from paytrace_client.models import CustomerRecord


@pytest.mark.parametrize(
    ("message", "category"),
    [
        ("    DECLINE      - Do not honor", "do_not_honor"),
        ("  EXPIRED CARD - Expired card", "expired_card"),
        ("NSF - Insufficient funds", "insufficient_funds"),
        ("CVV2 MISMATCH", "verification_failed"),
        ("PICK UP CARD - Lost card", "invalid_card"),
        ("", "other"),
    ],
)
def test_decline_reason_categories(message: str, category: str) -> None:
    decided = decline_reason(102, message)
    assert decided.value.category == category
    assert decided.value.status_reason.startswith("PayTrace code 102: declined by the issuer")
    assert category in decided.reason
    assert decided.value.action


def test_chargeback_reason_codes() -> None:
    assert chargeback_category("10.4").value == "fraud"
    assert chargeback_category(" 4853 ").reason == "reason code 4853 -> consumer_dispute"
    assert chargeback_category("99.9").value == "other"


def _chargeback(**extra: object) -> Chargeback:
    fields: dict[str, object] = {
        "case_number": "CB-9",
        "transaction_id": "1000",
        "amount": Decimal("12.50"),
        "reason_code": "13.1",
        "dispute_date": date(2026, 3, 5),
        **extra,
    }
    return Chargeback.model_validate(fields)


def test_credit_memo_is_numbered_by_case_and_names_the_invoice() -> None:
    memo = chargeback_to_credit_memo(
        _chargeback(), invoice_number="SF-006A", customer_account="1008", config=ChargebackConfig()
    )
    wire = memo.value.to_dict()
    assert wire["TransactionNumber"] == "CB-CB-9"
    assert wire["BillToCustomerNumber"] == "1008"
    assert wire["TransactionType"] == "Credit Memo"
    assert wire["receivablesCreditMemoLines"][0]["UnitSellingPrice"] == "-12.50"
    assert "SF-006A" in wire["CreditMemoComments"]
    assert "not_received" in memo.reason
    bare = chargeback_to_credit_memo(
        _chargeback(),
        invoice_number="SF-006A",
        customer_account="1008",
        config=ChargebackConfig(chargeback_account=None),
    )
    assert "receivablesCreditMemoDistributions" not in bare.value.to_dict()


def test_case_fields_leave_out_what_the_org_lacks() -> None:
    fields = DisputeCaseFields(amount=None, account=None)
    case = chargeback_to_case(
        _chargeback(reason="never arrived"), account_id="001A", invoice_number="SF-1", fields=fields
    )
    assert "Dispute_Amount__c" not in case.value
    assert "AccountId" not in case.value
    assert case.value["Subject"] == "Chargeback CB-9: not_received"
    assert "never arrived" in case.value["Description"]


def test_chargeback_money_is_validated() -> None:
    with pytest.raises(ValueError, match="two decimal places"):
        _chargeback(amount=Decimal("1.001"))


ACCOUNT = {
    "Id": "001A",
    "Name": " Northwind  Traders ",
    "BillingStreet": "500 Main street",
    "BillingCity": "SEATTLE",
    "BillingState": "washington",
    "BillingPostalCode": "98101",
    "BillingCountry": "United States",
    "AccountNumber": "1004",
}


def test_customer_from_account_normalizes_and_explains() -> None:
    decided = customer_from_account(
        ACCOUNT, {"Email": "Ann@Example.COM"}, paytrace_customer_id=None, fusion_account_number=None
    )
    customer = decided.value
    assert customer.name == "Northwind Traders"
    assert customer.email == "ann@example.com"
    assert customer.paytrace_customer_id == "sf-001A"
    assert customer.fusion_customer_account == "1004"
    address = customer.billing_address
    assert address is not None
    assert (address.street, address.city, address.region, address.country) == (
        "500 Main St.",
        "Seattle",
        "WA",
        "US",
    )
    assert "street type STREET -> St." in decided.reason
    assert "Fusion account 1004 from Account.AccountNumber" in decided.reason


def test_cross_reference_ids_win_over_derived_ones() -> None:
    decided = customer_from_account(
        ACCOUNT, None, paytrace_customer_id="vault-7", fusion_account_number="1008"
    )
    assert decided.value.paytrace_customer_id == "vault-7"
    assert decided.value.fusion_customer_account == "1008"
    assert decided.value.email is None


@pytest.mark.parametrize(
    ("account", "contact", "message"),
    [
        ({"Name": "x"}, None, "Account.Id: missing"),
        ({"Id": "001A", "Name": " "}, None, "Name is empty"),
        (ACCOUNT, {"Email": "not-an-email"}, "Contact.Email of Account 001A"),
    ],
)
def test_bad_accounts_are_refused(
    account: dict[str, str], contact: dict[str, str] | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        customer_from_account(
            account, contact, paytrace_customer_id=None, fusion_account_number=None
        )


def test_profile_differences_salesforce_wins() -> None:
    customer = customer_from_account(
        ACCOUNT, {"Email": "ann@example.com"}, paytrace_customer_id=None, fusion_account_number=None
    ).value
    wire = customer_to_paytrace_address(customer)
    same = CustomerRecord.model_validate(
        {
            "customer_id": "sf-001A",
            "billing_address": {
                "name": wire.name,
                "street_address": wire.street_address,
                "city": wire.city,
                "state": wire.state,
                "zip": wire.zip,
            },
            "email": "ann@example.com",
            "credit_card": {"masked_number": "xxxxxxxxxxxx5439"},
        }
    )
    assert paytrace_profile_differences(customer, same) == []
    moved = same.model_copy(update={"email": "old@example.com"})
    assert paytrace_profile_differences(customer, moved) == ["email"]
    assert CUSTOMER_FIELD_OWNERS["payment_method"] == "paytrace"
    assert CUSTOMER_FIELD_OWNERS["billing_address"] == "salesforce"
