"""``paysync replay``: re-derive recorded mapping decisions offline, with today's rules.

A flow keeps its canonical input and, on the steps that made a mapping decision, the
decision's explanation (``external_ids["mapping"]``). Replaying runs the same pure mapping
functions (GL table, accounting date, settlement journal) on the stored input with the
current options and reports every decision that would now differ. Nothing is called and
nothing is written: it answers "what would this configuration change do to past flows?".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from paysync_core import FlowRecord, LedgerStore, StepRecord
from paysync_core.canonical import Order, Payment, SettledTransaction, SettlementBatch
from paysync_core.mapping import fusion_date, settlement_journal
from paysync_core.usecases import (
    ECOMMERCE_USE_CASE,
    REFUNDS_USE_CASE,
    SETTLEMENT_USE_CASE,
    USE_CASE,
    EcommerceConfig,
    OrderToCashConfig,
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


#: Engine use case name -> (registry entry name, replayer).
REPLAYERS: Mapping[str, tuple[str, Replayer]] = {
    USE_CASE: ("order_to_cash", _order_to_cash),
    ECOMMERCE_USE_CASE: ("ecommerce", _ecommerce),
    REFUNDS_USE_CASE: ("refunds", _refunds),
    SETTLEMENT_USE_CASE: ("settlement_gl", _settlement),
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
