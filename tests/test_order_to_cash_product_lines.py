"""Use case 1 GL rules keyed on the product line, read from the Opportunity's line items
(``OpportunityLineItem`` -> ``Product2.Family``), end to end against the emulators.

The test world's org adds ``Product2`` and ``OpportunityLineItem`` (the seed org lacks them);
the Fusion invoice's revenue account shows which GL rule the product line chose, and the
flow records why.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from paysync_core import FlowState
from paysync_core.usecases import OrderToCashConfig

if TYPE_CHECKING:
    from conftest import Emulated, EmulatedFactory

GL = {
    "rules": [
        {"account": "01-000-4110-0000", "product_line": "Hardware"},
        {"account": "01-000-4120-0000", "product_line": "Services"},
        {"account": "01-000-4100-0000", "channel": "sales"},
    ],
    "default": "01-000-4999-0000",
}


@pytest.fixture
def env(emulated: EmulatedFactory) -> Emulated:
    return emulated.for_order_to_cash(objects=("Product2", "OpportunityLineItem"))


def _opportunity(env: Emulated, amount: str, *lines: tuple[str | None, str]) -> dict[str, Any]:
    return env.closed_won_with_lines(f"Acme {amount}", amount, *lines)


def _run(env: Emulated, opportunity: dict[str, Any], **options: Any) -> tuple[str, str]:
    """Runs use case 1 -> (the invoice step's GL explanation, its request body)."""
    usecase = env.order_to_cash(gl=GL, **options)
    engine = env.engine([usecase.definition()])
    flow = usecase.submit_opportunity(engine, opportunity)
    assert flow is not None
    done = engine.run_flow(flow.flow_id)
    assert done.state is FlowState.SUCCEEDED, done.last_error
    steps = {s.name: s for s in engine.steps(flow.flow_id)}
    invoice = steps["fusion_invoice"]
    return invoice.external_ids["mapping"], str(invoice.request_summary["body"])


def test_one_family_picks_its_gl_rule_and_says_why(env: Emulated) -> None:
    opportunity = _opportunity(env, "300.00", ("Hardware", "200.00"), ("Hardware", "100.00"))
    mapping, body = _run(env, opportunity, product_lines={})
    assert mapping.startswith("GL 01-000-4110-0000 because product line Hardware, rule 1")
    assert "(product line Hardware: every line item's Product2.Family)" in mapping
    assert "01-000-4110-0000" in body  # the REV distribution sent to Fusion


def test_several_families_use_the_default_or_the_largest(env: Emulated) -> None:
    mixed = _opportunity(env, "300.00", ("Hardware", "100.00"), ("Services", "200.00"))
    mapping, body = _run(env, mixed, product_lines={"default_product_line": "Hardware"})
    assert mapping.startswith("GL 01-000-4110-0000 because product line Hardware")
    assert "several families (Hardware 100.00, Services 200.00), default_product_line" in mapping
    assert "01-000-4110-0000" in body

    other = _opportunity(env, "301.00", ("Hardware", "100.00"), ("Services", "201.00"))
    mapping, body = _run(env, other, product_lines={"several": "largest"})
    assert mapping.startswith("GL 01-000-4120-0000 because product line Services, rule 2")
    assert "product line Services: the largest family" in mapping
    assert "01-000-4120-0000" in body


def test_no_line_items_or_no_setting_keep_the_channel_rule(env: Emulated) -> None:
    bare = _opportunity(env, "50.00")
    mapping, _ = _run(env, bare, product_lines={})
    assert mapping.startswith("GL 01-000-4100-0000 because channel sales, rule 3")
    assert f"(Opportunity {bare['Id']} has no line items)" in mapping
    unset = _opportunity(env, "51.00", ("Hardware", "51.00"))
    mapping, _ = _run(env, unset)  # product_lines not configured: line items not read
    assert mapping.startswith("GL 01-000-4100-0000 because channel sales, rule 3")
    assert "Product2" not in mapping


def test_bad_product_line_option_names_the_key() -> None:
    with pytest.raises(ValueError, match=r"product_lines\.several"):
        OrderToCashConfig.model_validate({"product_lines": {"several": "spread"}})
