"""``paysync replay``: re-derive recorded mapping decisions offline, with today's rules.

A flow keeps its canonical input and, on the steps that made a mapping decision, the
decision's explanation (``external_ids["mapping"]``). Replaying runs the same pure mapping
functions (GL table, accounting date, settlement journal) on the stored input with the
current options and reports every decision that would now differ. Nothing is called and
nothing is written: it answers "what would this configuration change do to past flows?".
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from paysync_core import FlowRecord, LedgerStore, StepRecord
from paysync_core.canonical import (
    Customer,
    Order,
    Payment,
    PaymentStatus,
    SettledTransaction,
    SettlementBatch,
    Subscription,
)
from paysync_core.chargebacks import Chargeback, chargeback_to_credit_memo
from paysync_core.mapping import (
    customer_from_account,
    decline_reason,
    fusion_date,
    settlement_journal,
    subscription_from_salesforce,
)
from paysync_core.usecases import (
    CHARGEBACKS_USE_CASE,
    CUSTOMER_SYNC_USE_CASE,
    DECLINES_USE_CASE,
    ECOMMERCE_USE_CASE,
    RECURRING_USE_CASE,
    REFUNDS_USE_CASE,
    SETTLEMENT_USE_CASE,
    USE_CASE,
    CustomerSyncConfig,
    DeclinesChargebacksConfig,
    EcommerceConfig,
    OrderToCashConfig,
    RecurringBillingConfig,
    RefundsConfig,
    SettlementToGlConfig,
)

__all__ = ["REPLAYERS", "ReplayDecision", "ReplayReport", "replay_flows"]


@dataclass(frozen=True)
class ReplayDecision:
    flow_id: str
    use_case: str
    step: str
    key: str
    recorded: str
    replayed: str

    @property
    def changed(self) -> bool:
        return self.recorded != self.replayed

    def as_json(self) -> dict[str, object]:
        return {**vars(self), "changed": self.changed}


@dataclass
class ReplayReport:
    flows: int = 0
    decisions: list[ReplayDecision] = field(default_factory=list[ReplayDecision])
    not_replayable: dict[str, int] = field(default_factory=dict[str, int])
    """Flows of use cases whose decisions are not recorded per step (by use case)."""

    @property
    def changed(self) -> list[ReplayDecision]:
        return [d for d in self.decisions if d.changed]

    def as_json(self) -> dict[str, object]:
        return {
            "flows": self.flows,
            "decisions": len(self.decisions),
            "changed": [d.as_json() for d in self.changed],
            "not_replayable": dict(self.not_replayable),
        }


Replayer = Callable[[BaseModel, FlowRecord, Mapping[str, StepRecord]], list[ReplayDecision]]


def _decision(flow: FlowRecord, step: str, recorded: str, replayed: str) -> ReplayDecision:
    return ReplayDecision(flow.flow_id, flow.use_case, step, "mapping", recorded, replayed)


def _order_to_cash(
    options: BaseModel, flow: FlowRecord, steps: Mapping[str, StepRecord]
) -> list[ReplayDecision]:
    assert isinstance(options, OrderToCashConfig)
    invoice = steps.get("fusion_invoice")
    if invoice is None or "mapping" not in invoice.external_ids:
        return []  # not invoiced (declined, or not there yet): no GL decision was made
    order = Order.model_validate(flow.input["order"])
    card_type = steps["vault_profile"].external_ids.get("card_type")
    gl = options.gl.derive(card_type=card_type, channel=order.channel)
    processed = datetime.fromisoformat(steps["charge"].external_ids["processed_at"])
    day = fusion_date(processed, ledger_zone=ZoneInfo(options.ledger_timezone))
    replayed = f"{gl.reason}; date {day.reason}"
    return [_decision(flow, "fusion_invoice", invoice.external_ids["mapping"], replayed)]


def _ecommerce(
    options: BaseModel, flow: FlowRecord, steps: Mapping[str, StepRecord]
) -> list[ReplayDecision]:
    assert isinstance(options, EcommerceConfig)
    invoice = steps.get("fusion_invoice")
    if invoice is None or "mapping" not in invoice.external_ids:
        return []
    order = Order.model_validate(flow.input["order"])
    payment = Payment.model_validate(flow.input["payment"])
    method = payment.method
    gl = options.gl.derive(card_type=method.card_type if method else None, channel=order.channel)
    day = fusion_date(payment.processed_at, ledger_zone=ZoneInfo(options.ledger_timezone))
    replayed = f"{gl.reason}; date {day.reason}"
    return [_decision(flow, "fusion_invoice", invoice.external_ids["mapping"], replayed)]


def _refunds(
    options: BaseModel, flow: FlowRecord, steps: Mapping[str, StepRecord]
) -> list[ReplayDecision]:
    assert isinstance(options, RefundsConfig)
    memo = steps.get("fusion_reverse")
    if memo is None or "mapping" not in memo.external_ids:
        return []  # a void (receipt reversed): no GL decision
    gl = options.gl.derive(card_type=None, channel=options.channel, transaction_type="REFUND")
    return [_decision(flow, "fusion_reverse", memo.external_ids["mapping"], gl.reason)]


def _journal_text(lines: Sequence[Mapping[str, object]]) -> str:
    return "; ".join(f"{line['account']} Dr {line['debit']} Cr {line['credit']}" for line in lines)


def _settlement(
    options: BaseModel, flow: FlowRecord, steps: Mapping[str, StepRecord]
) -> list[ReplayDecision]:
    assert isinstance(options, SettlementToGlConfig)
    batch = SettlementBatch.model_validate(flow.input["batch"])
    raw = flow.input.get("transactions")
    items: list[object] = list(raw) if isinstance(raw, list) else []  # pyright: ignore[reportUnknownArgumentType]
    transactions = [SettledTransaction.model_validate(t) for t in items]
    day = fusion_date(batch.settled_at, ledger_zone=ZoneInfo(options.ledger_timezone))
    journal = settlement_journal(batch, transactions, options.gl, accounting_date=day.value)
    recorded = flow.input.get("journal")
    recorded_lines: list[Mapping[str, object]] = (
        list(recorded.get("lines", []))  # pyright: ignore[reportUnknownArgumentType, reportUnknownMemberType]
        if isinstance(recorded, Mapping)
        else []
    )
    replayed_lines = [line.model_dump(mode="json") for line in journal.value.lines]
    return [
        ReplayDecision(
            flow.flow_id,
            flow.use_case,
            "journal_import",
            "journal lines",
            _journal_text(recorded_lines),
            _journal_text(replayed_lines),
        )
    ]


def _raw(flow: FlowRecord) -> Mapping[str, Any] | None:
    """The raw inputs a flow keeps for replay (``None`` for flows recorded before)."""
    raw = flow.input.get("raw")
    return cast(Mapping[str, Any], raw) if isinstance(raw, Mapping) else None


def _declines(
    options: BaseModel, flow: FlowRecord, steps: Mapping[str, StepRecord]
) -> list[ReplayDecision]:
    assert isinstance(options, DeclinesChargebacksConfig)
    raw = _raw(flow)
    if raw is None:
        return []
    decision = decline_reason(int(raw["response_code"]), str(raw["message"]))
    recorded = (
        f"{flow.input.get('category')}: {flow.input.get('action')}; {flow.input.get('mapping')}"
    )
    replayed = f"{decision.value.category}: {decision.value.action}; {decision.reason}"
    return [_decision(flow, "salesforce_payment", recorded, replayed)]


def _chargebacks(
    options: BaseModel, flow: FlowRecord, steps: Mapping[str, StepRecord]
) -> list[ReplayDecision]:
    assert isinstance(options, DeclinesChargebacksConfig)
    memo, invoice = steps.get("fusion_credit_memo"), steps.get("original_invoice")
    if memo is None or invoice is None or "mapping" not in memo.external_ids:
        return []  # not credited (yet): no mapping decision recorded
    chargeback = Chargeback.model_validate(flow.input["chargeback"])
    replayed = chargeback_to_credit_memo(
        chargeback,
        invoice_number=invoice.external_ids["invoice_number"],
        customer_account=invoice.external_ids["customer_account"],
        config=options.chargebacks,
    )
    return [_decision(flow, "fusion_credit_memo", memo.external_ids["mapping"], replayed.reason)]


def _customer_text(customer: Mapping[str, Any]) -> str:
    return json.dumps(customer, sort_keys=True, default=str)


def _customer_sync(
    options: BaseModel, flow: FlowRecord, steps: Mapping[str, StepRecord]
) -> list[ReplayDecision]:
    assert isinstance(options, CustomerSyncConfig)
    raw = _raw(flow)
    if raw is None:
        return []
    recorded = Customer.model_validate(flow.input["customer"])
    account = dict(cast(Mapping[str, Any], raw["account"]))
    xref = cast(Mapping[str, Any], raw["xref"])
    if xref.get("fusion") is None and recorded.fusion_customer_account:
        # not kept raw (an account-number key): without a cross-reference entry it was this
        account["AccountNumber"] = recorded.fusion_customer_account
    email = raw.get("contact_email")
    try:
        replayed = customer_from_account(
            account,
            {"Email": email} if email else None,
            paytrace_customer_id=xref.get("vault"),
            fusion_account_number=xref.get("fusion"),
            paytrace_prefix=options.paytrace_prefix,
        )
    except ValueError as exc:
        refused = f"refused: {exc}"
        return [_decision(flow, "paytrace_profile", str(flow.input.get("mapping")), refused)]
    return [
        ReplayDecision(
            flow.flow_id,
            flow.use_case,
            "paytrace_profile",
            "customer",
            _customer_text(recorded.model_dump(mode="json")),
            _customer_text(replayed.value.model_dump(mode="json")),
        ),
        _decision(flow, "paytrace_profile", str(flow.input.get("mapping")), replayed.reason),
    ]


def _recurring(
    options: BaseModel, flow: FlowRecord, steps: Mapping[str, StepRecord]
) -> list[ReplayDecision]:
    assert isinstance(options, RecurringBillingConfig)
    raw = _raw(flow)
    row = raw.get("row") if raw is not None else None
    if raw is None or not isinstance(row, Mapping):
        return []
    decisions: list[ReplayDecision] = []
    recorded = Subscription.model_validate(flow.input["subscription"])
    try:
        replayed = subscription_from_salesforce(cast(Mapping[str, Any], row), options.fields).value
    except ValueError as exc:  # today's field map cannot read the recorded row
        return [_decision(flow, "charge", str(flow.input.get("schedule")), f"refused: {exc}")]
    decisions.append(
        ReplayDecision(
            flow.flow_id,
            flow.use_case,
            "charge",
            "subscription",
            _customer_text(recorded.model_dump(mode="json")),
            _customer_text(replayed.model_dump(mode="json")),
        )
    )
    due = options.dunning.due_attempt(replayed, date.fromisoformat(str(raw["today"])))
    decisions.append(
        ReplayDecision(
            flow.flow_id,
            flow.use_case,
            "charge",
            "due attempt",
            f"attempt {flow.input.get('attempt')}: {flow.input.get('schedule')}",
            f"attempt {due.value}: {due.reason}",
        )
    )
    charge, updated = steps.get("charge"), steps.get("salesforce_subscription")
    if charge is not None and updated is not None and "reason" in updated.external_ids:
        outcome = options.dunning.after_attempt(
            recorded,
            int(str(flow.input["attempt"])),
            approved=charge.external_ids.get("status") == PaymentStatus.CAPTURED.value,
            detail=charge.external_ids.get("status_reason", ""),
        )
        decisions.append(
            ReplayDecision(
                flow.flow_id,
                flow.use_case,
                "salesforce_subscription",
                "dunning",
                f"{updated.external_ids.get('status')}: {updated.external_ids['reason']}",
                f"{outcome.status.value}: {outcome.reason}",
            )
        )
    return decisions


#: Engine use case name -> (registry entry name, replayer).
REPLAYERS: Mapping[str, tuple[str, Replayer]] = {
    USE_CASE: ("order_to_cash", _order_to_cash),
    ECOMMERCE_USE_CASE: ("ecommerce", _ecommerce),
    REFUNDS_USE_CASE: ("refunds", _refunds),
    SETTLEMENT_USE_CASE: ("settlement_gl", _settlement),
    DECLINES_USE_CASE: ("declines_chargebacks", _declines),
    CHARGEBACKS_USE_CASE: ("declines_chargebacks", _chargebacks),
    CUSTOMER_SYNC_USE_CASE: ("customer_sync", _customer_sync),
    RECURRING_USE_CASE: ("recurring_billing", _recurring),
}


def replay_flows(
    store: LedgerStore,
    options: Mapping[str, BaseModel],
    *,
    flow_ids: Sequence[str] = (),
    use_cases: Sequence[str] = (),
    since: datetime | None = None,
) -> ReplayReport:
    """Replay the named flows, or every flow of ``use_cases`` (engine names) created since
    ``since``. ``options`` maps registry entry names to their current options."""
    report = ReplayReport()
    with store.transaction() as tx:
        if flow_ids:
            found = [tx.get_flow(fid) for fid in flow_ids]
            flows = [f for f in found if f is not None]
        else:
            flows = [f for f in tx.list_flows() if f.use_case in use_cases]
        if since is not None:
            flows = [f for f in flows if f.created_at >= since]
        steps = {f.flow_id: {s.name: s for s in tx.get_steps(f.flow_id)} for f in flows}
    for flow in flows:
        report.flows += 1
        entry = REPLAYERS.get(flow.use_case)
        if entry is None:
            report.not_replayable[flow.use_case] = report.not_replayable.get(flow.use_case, 0) + 1
            continue
        name, replayer = entry
        report.decisions.extend(replayer(options[name], flow, steps[flow.flow_id]))
    return report
