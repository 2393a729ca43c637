"""Mapping rules: each returns a value and the reason it was chosen."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from paysync_core.canonical import Customer, Order, PaymentMethodToken, PaymentStatus
from paysync_core.mapping import (
    CustomerXref,
    GlRule,
    GlTable,
    fusion_date,
    normalize_address,
    paytrace_currency,
    paytrace_status,
    salesforce_status,
    to_utc,
)


def test_paytrace_codes_map_to_canonical_status_with_reasons() -> None:
    approved = paytrace_status(
        101, transaction_type="SALE", message="Your transaction was successfully approved."
    )
    assert approved.value is PaymentStatus.CAPTURED
    assert "101" in approved.reason
    assert "SALE" in approved.reason
    assert paytrace_status(101, transaction_type="AUTHORIZATION").value is PaymentStatus.AUTHORIZED
    declined = paytrace_status(102, message="    DECLINE      - Do not honor")
    assert declined.value is PaymentStatus.DECLINED
    assert "Do not honor" in declined.reason
    assert paytrace_status(103).value is PaymentStatus.VOIDED
    assert paytrace_status(999).value is PaymentStatus.ERROR


def test_canonical_status_to_salesforce_picklist() -> None:
    assert salesforce_status(PaymentStatus.CAPTURED).value == "Captured"
    failed = salesforce_status(PaymentStatus.DECLINED)
    assert failed.value == "Failed"
    assert "default picklist" in failed.reason
    custom = salesforce_status(PaymentStatus.DECLINED, {PaymentStatus.DECLINED: "Declined"})
    assert custom.value == "Declined"
    assert "configured" in custom.reason


def test_gl_table_first_matching_rule_wins_and_explains() -> None:
    table = GlTable(
        rules=(
            GlRule(account="1200-AMEX", card_type="AMEX"),
            GlRule(account="4100-200", channel="web", transaction_type="SALE"),
            GlRule(account="4100-100", transaction_type="SALE"),
        ),
        default="4999-000",
    )
    amex = table.derive(card_type="amex", channel="sales")
    assert amex.value == "1200-AMEX"
    assert "rule 1" in amex.reason
    web = table.derive(card_type="VISA", channel="Web")
    assert web.value == "4100-200"
    assert web.reason == "GL 4100-200 because channel web, transaction_type SALE, rule 2"
    refund = table.derive(card_type="VISA", channel="sales", transaction_type="REFUND")
    assert refund.value == "4999-000"
    assert "default" in refund.reason
    with pytest.raises(ValidationError):
        GlTable.model_validate({"rules": [{"account": "1", "color": "red"}], "default": "x"})


def test_gl_table_keys_on_product_line_and_business_unit() -> None:
    table = GlTable.model_validate(
        {
            "rules": [
                {"account": "4100-100", "product_line": "Hardware", "business_unit": "East"},
                {"account": "4100-150", "product_line": "Hardware", "card_type": "AMEX"},
                {"account": "4100-200", "product_line": "Services", "business_unit": "*"},
                {"account": "4100-900", "business_unit": "West", "transaction_type": "SALE"},
            ],
            "default": "4999-000",
        }
    )
    east = table.derive(
        card_type="VISA", channel="paytrace", product_line="hardware", business_unit="EAST"
    )
    assert east.value == "4100-100"  # keys compare case-insensitively
    assert east.reason == "GL 4100-100 because product line hardware, business unit EAST, rule 1"
    amex = table.derive(card_type="amex", channel="paytrace", product_line="Hardware")
    assert amex.reason == "GL 4100-150 because card_type AMEX, product line Hardware, rule 2"
    services = table.derive(
        card_type="VISA", channel="paytrace", product_line="Services", business_unit="West"
    )
    # "*" is a wildcard: rule 3 wins before rule 4 (first match), and names only what it keyed on
    assert services.reason == "GL 4100-200 because product line Services, rule 3"
    west = table.derive(card_type="VISA", channel="paytrace", business_unit="West")
    assert west.reason == "GL 4100-900 because transaction_type SALE, business unit West, rule 4"
    # a rule naming a product line never matches a transaction without one
    nothing = table.derive(card_type="AMEX", channel="paytrace", business_unit="North")
    assert nothing.value == "4999-000"
    assert nothing.reason == (
        "GL 4999-000: no rule matched (card_type AMEX, channel paytrace, transaction_type SALE,"
        " business unit North), default"
    )
    with pytest.raises(ValidationError, match=r"rules\.0\.account"):
        GlTable.model_validate({"rules": [{"account": ""}], "default": "x"})
    with pytest.raises(ValidationError, match=r"rules\.0\.product_lines"):
        GlTable.model_validate({"rules": [{"account": "1", "product_lines": "x"}], "default": "x"})


def test_dates_and_time_zones() -> None:
    la = ZoneInfo("America/Los_Angeles")
    naive = datetime(2026, 3, 1, 23, 30)  # noqa: DTZ001 - a PayTrace export time, zone-less
    utc = to_utc(naive, assume=la)
    assert utc.value == datetime(2026, 3, 2, 7, 30, tzinfo=timezone.utc)
    assert "America/Los_Angeles" in utc.reason
    with pytest.raises(ValueError, match="naive"):
        to_utc(naive)
    late = datetime(2026, 3, 2, 3, 0, tzinfo=timezone.utc)
    assert fusion_date(late, ledger_zone=la).value == date(2026, 3, 1)
    assert fusion_date(late, ledger_zone=timezone.utc).value == date(2026, 3, 2)


def test_currency_usd_only() -> None:
    assert paytrace_currency("usd").value == "USD"
    with pytest.raises(ValueError, match="USD only"):
        paytrace_currency("EUR")


def test_address_normalisation_explains_changes() -> None:
    result = normalize_address(
        name=" Mark  Smith ",
        street="8320 E. West street",
        city="SPOKANE",
        region="Washington",
        postal_code="85284 1234",
        country="USA",
    )
    address = result.value
    assert address.name == "Mark Smith"
    assert address.street == "8320 E. West St."
    assert (address.city, address.region, address.postal_code, address.country) == (
        "Spokane",
        "WA",
        "85284-1234",
        "US",
    )
    assert "state Washington -> WA" in result.reason
    assert (
        normalize_address(street="1 Main St.", postal_code="12345").reason == "already normalized"
    )


def test_customer_cross_reference() -> None:
    xref = CustomerXref(
        paytrace={"001A": "customerTest123"}, fusion={"001A": "1008"}, default_fusion_account=None
    )
    assert xref.paytrace_customer("001A").value == "customerTest123"
    derived = xref.paytrace_customer("001B")
    assert derived.value == "sf-001B"
    assert "derived" in derived.reason
    assert xref.fusion_account("001A").value == "1008"
    with pytest.raises(LookupError):
        xref.fusion_account("001B")


def test_canonical_model_is_frozen_and_strict_about_money() -> None:
    customer = Customer(customer_id="c1", name="Acme")
    order = Order(
        source_system="salesforce",
        source_id="006X",
        customer=customer,
        amount=Decimal("10.50"),
        order_date=date(2026, 1, 1),
    )
    with pytest.raises(ValidationError):
        order.model_copy(update={}).__setattr__("amount", Decimal(1))
    with pytest.raises(ValidationError):
        Order.model_validate({**order.model_dump(), "amount": Decimal("1.001")})
    with pytest.raises(ValidationError):
        Order.model_validate({**order.model_dump(), "currency": "usd"})
    with pytest.raises(ValidationError):
        PaymentMethodToken(gateway="paytrace", vault_id="v", last4="4111111111111111")
