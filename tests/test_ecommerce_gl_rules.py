"""Use case 2's invoice revenue account from the GL table keyed on the web order's product
line (read from the PayTrace record) and the receivables business unit. In-process emulators,
SQLite ledger."""

from __future__ import annotations

from typing import TYPE_CHECKING

from paysync_core import RetryPolicy
from paysync_core.mapping import (
    FusionReceivablesConfig,
    GlRule,
    GlTable,
    ProductLineMapping,
    ProductLineRule,
    VaultXref,
)
from paysync_core.ports import FusionPort, PayTracePort, SalesforcePort
from paysync_core.usecases import EcommerceConfig, EcommerceOrderToCash, PayTraceActivityPoller

if TYPE_CHECKING:
    from conftest import Clock, EmulatedFactory


def test_web_invoice_revenue_account_by_product_line_and_business_unit(
    emulated: EmulatedFactory, clock: Clock
) -> None:
    env = emulated(
        {
            "Payment__c": ("Card_Type__c", "Vault_Customer_ID__c", "Status_Reason__c"),
            "Order": ("Fulfillment_Status__c",),
        }
    )
    usecase = EcommerceOrderToCash(
        fusion=FusionPort(env.fusion),
        salesforce=SalesforcePort(env.bridge),
        config=EcommerceConfig(
            xref=VaultXref(
                default_salesforce_account=env.account_id(), default_fusion_account="1008"
            ),
            # the conftest's web store describes every sale as "web store"
            product_lines=ProductLineMapping(
                source="description",
                rules=(ProductLineRule(prefix="web", product_line="Online"),),
            ),
            gl=GlTable(
                rules=(
                    GlRule(
                        account="01-300-4100-0200",
                        product_line="Online",
                        business_unit="Vision Operations",
                    ),
                    GlRule(account="01-000-4100-0000", channel="web"),
                ),
                default="01-000-4999-0000",
            ),
            fusion=FusionReceivablesConfig(business_unit="Vision Operations"),
        ),
    )
    engine = env.engine(
        [usecase.definition()], policy=RetryPolicy(lookup_delays=(60.0, 600.0)), clock=clock
    )
    poller = PayTraceActivityPoller(PayTracePort(env.paytrace), [usecase.submit_sale], clock=clock)
    txn = env.web_sale("WEB-4001", "30.00")
    [flow_id] = poller.poll(engine).submitted
    engine.run_pending(max_workers=1)
    env.ship(txn)
    clock.advance(61)
    assert engine.run_pending(max_workers=1).succeeded == [flow_id]

    steps = {s.name: s for s in engine.steps(flow_id)}
    mapping = steps["fusion_invoice"].external_ids["mapping"]
    assert mapping.startswith(
        "GL 01-300-4100-0200 because product line Online, business unit Vision Operations, rule 1"
    )
    body = str(steps["fusion_invoice"].request_summary["body"])
    assert "01-300-4100-0200" in body  # the REV distribution's AccountCombination
    recorded = engine.flow(flow_id).input["product_line"]
    assert recorded == {
        "value": "Online",
        "reason": "description 'web store' starts with 'web', product-line rule 1",
    }
