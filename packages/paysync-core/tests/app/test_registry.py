"""The use case registry: one description per use case, options in ``paysync.toml``."""

from __future__ import annotations

import pytest

from paysync_core import ConfigurationError
from paysync_core.app import describe_steps, get_usecase, registered, select_usecases
from paysync_core.config import ConfigCheckError, parse_config, usecase_options
from paysync_core.usecases import OrderToCashConfig

SYSTEMS = {
    "paytrace": {"username": "env:A", "password": "env:B"},
    "fusion": {"base_url": "https://fusion.example.com", "username": "env:C", "password": "env:D"},
    "salesforce": {"client_id": "env:E"},
}


def test_eight_use_cases_numbered_with_their_flows() -> None:
    entries = registered()
    assert [e.number for e in entries] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert [e.name for e in entries] == [
        "order_to_cash",
        "ecommerce",
        "refunds",
        "declines_chargebacks",
        "customer_sync",
        "settlement_gl",
        "recurring_billing",
        "fusion_payment_status",
    ]
    assert get_usecase("declines_chargebacks").flows == (
        "paytrace_declines",
        "paytrace_chargebacks",
    )


@pytest.mark.parametrize("entry", registered(), ids=lambda e: e.name)
def test_steps_and_systems_come_from_the_flow_definitions(entry: object) -> None:
    from paysync_core.app import UseCase

    assert isinstance(entry, UseCase)
    steps = describe_steps(entry)
    assert steps
    assert {s.flow for s in steps} == set(entry.flows)
    # every system a step writes to is one the entry declares
    assert {s.system for s in steps} <= set(entry.systems)


def test_unknown_use_case_names_the_known_ones() -> None:
    with pytest.raises(ConfigurationError, match="unknown use case 'nope'; known: order_to_cash"):
        get_usecase("nope")


def test_options_are_validated_in_the_config_file() -> None:
    config = parse_config(
        {"usecases": {"order_to_cash": {"xref": {"default_fusion_account": "9"}}}}
    )
    options = usecase_options(config, "order_to_cash", OrderToCashConfig)
    assert isinstance(options, OrderToCashConfig)
    assert options.xref.default_fusion_account == "9"
    with pytest.raises(ConfigCheckError) as caught:
        parse_config({"usecases": {"refunds": {"invoice_prefx": "X"}, "typo_case": {}}})
    keys = {issue.key for issue in caught.value.issues}
    assert keys == {"usecases.refunds.invoice_prefx", "usecases.typo_case"}


def test_selection_skips_disabled_and_unconfigured_use_cases() -> None:
    only_paytrace_fusion = parse_config(
        {"paytrace": SYSTEMS["paytrace"], "fusion": SYSTEMS["fusion"]}
    )
    selection = select_usecases(only_paytrace_fusion)
    assert [e.name for e in selection.chosen] == ["settlement_gl"]
    assert selection.skipped["order_to_cash"] == "no [salesforce] section"

    everything = parse_config({**SYSTEMS, "usecases": {"refunds": {"enabled": False}}})
    selection = select_usecases(everything)
    assert "refunds" not in [e.name for e in selection.chosen]
    assert selection.skipped == {"refunds": "disabled in the configuration"}
    assert [e.name for e in select_usecases(everything, ["refunds"]).chosen] == ["refunds"]
    with pytest.raises(ConfigurationError, match=r"needs \[salesforce\]"):
        select_usecases(only_paytrace_fusion, ["recurring_billing"])
