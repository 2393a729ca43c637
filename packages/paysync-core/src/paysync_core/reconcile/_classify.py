"""The decision for one business key, shared by every engine.

Engines only aggregate (per system, per key: net cents, payment-record count, status, ...);
what counts as a discrepancy, its evidence and its fix are decided here, once, so the fast
engine and the pure-Python one cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from ._model import Discrepancy, DiscrepancyClass, ReconcileRules, SuggestedFix, cents_to_decimal

__all__ = ["SYSTEMS", "Agg", "Outcome", "classify", "fuzzy_pass"]

SYSTEMS = ("paytrace", "fusion", "salesforce")
USE_CASE = "order_to_cash"
_REPLAY_STEP = {"fusion": "fusion_receipt", "salesforce": "salesforce_payment"}
_LABEL = {"paytrace": "PayTrace", "fusion": "Fusion", "salesforce": "Salesforce"}


@dataclass(frozen=True)
class Agg:
    """One system's records for one key, folded: refunds netted against payments."""

    payments: int
    net_cents: int
    status: str
    """The payment record's status, ``refunded`` when refunds net it to zero."""
    day: str
    customer: str
    invoice: str
    batch: str
    record_id: str


@dataclass
class Outcome:
    """Per key: the systems holding it and the discrepancies found."""

    key: str
    aggs: dict[str, Agg]
    found: list[Discrepancy]


def _money(cents: int | None) -> str:
    return "-" if cents is None else str(cents_to_decimal(cents))


def classify(key: str, aggs: dict[str, Agg], rules: ReconcileRules) -> list[Discrepancy]:
    """Every discrepancy of one key (empty: matched)."""
    pt, fu, sf = (aggs.get(s) for s in SYSTEMS)
    day = min(a.day for a in aggs.values())
    batch = pt.batch if pt and pt.batch else None

    def finding(kind: DiscrepancyClass, evidence: str, fix: SuggestedFix) -> Discrepancy:
        return Discrepancy(
            key,
            kind,
            evidence,
            paytrace_cents=pt.net_cents if pt else None,
            fusion_cents=fu.net_cents if fu else None,
            salesforce_cents=sf.net_cents if sf else None,
            day=day,
            batch=batch,
            fix=fix,
        )

    dups = [s for s in SYSTEMS if s in aggs and aggs[s].payments > 1]
    if dups:
        first = dups[0]
        counts = ", ".join(f"{aggs[s].payments} in {_LABEL[s]}" for s in dups)
        fix = SuggestedFix(
            action="remove_duplicate",
            system=first,
            source_id=key,
            reason=f"keep one record for {key}",
        )
        return [finding(DiscrepancyClass.DUPLICATE, f"payment records: {counts}", fix)]
    if pt is None:
        where = " and ".join(_LABEL[s] for s in SYSTEMS if s in aggs)
        source = next(s for s in SYSTEMS if s in aggs)
        fix = SuggestedFix(
            action="investigate",
            system=source,
            source_id=aggs[source].record_id or key,
            reason=f"no PayTrace transaction {key}: correct the reference or reverse the record",
        )
        evidence = f"present in {where}, absent from PayTrace"
        return [finding(DiscrepancyClass.MISSING_IN_PAYTRACE, evidence, fix)]
    found: list[Discrepancy] = []
    expects_fusion = pt.status != "failed"
    for system, agg, kind in (
        ("fusion", fu, DiscrepancyClass.MISSING_IN_FUSION),
        ("salesforce", sf, DiscrepancyClass.MISSING_IN_SALESFORCE),
    ):
        if agg is None and (system == "salesforce" or expects_fusion):
            fix = SuggestedFix(
                action="replay",
                system=system,
                source_id=key,
                use_case=USE_CASE,
                step=_REPLAY_STEP[system],
                reason=f"PayTrace {pt.status} {_money(pt.net_cents)} "
                f"never reached {_LABEL[system]}",
            )
            evidence = f"PayTrace {key} {pt.status} {_money(pt.net_cents)} on {pt.day}"
            found.append(finding(kind, evidence, fix))
    off = [
        s
        for s, agg in (("fusion", fu), ("salesforce", sf))
        if agg is not None and abs(agg.net_cents - pt.net_cents) > rules.tolerance_cents
    ]
    if off:
        parts = ", ".join(f"{_LABEL[s]} {_money(aggs[s].net_cents)}" for s in off)
        fix = SuggestedFix(
            action="correct",
            system=off[0],
            source_id=aggs[off[0]].record_id or key,
            field="amount",
            value=_money(pt.net_cents),
            reason="PayTrace's settled amount is the source of truth",
        )
        evidence = f"PayTrace net {_money(pt.net_cents)} vs {parts}"
        found.append(finding(DiscrepancyClass.AMOUNT_MISMATCH, evidence, fix))
    statuses = {s: aggs[s].status for s in SYSTEMS if s in aggs}
    if len(set(statuses.values())) > 1:
        wrong = next(
            s for s in ("salesforce", "fusion") if s in statuses and statuses[s] != pt.status
        )
        fix = SuggestedFix(
            action="correct",
            system=wrong,
            source_id=aggs[wrong].record_id or key,
            field="status",
            value=pt.status,
            reason=f"PayTrace says {pt.status}",
        )
        evidence = ", ".join(f"{_LABEL[s]} {v}" for s, v in statuses.items())
        found.append(finding(DiscrepancyClass.STATUS_MISMATCH, evidence, fix))
    return found


def _days_apart(a: str, b: str) -> int:
    try:
        return abs((date.fromisoformat(a) - date.fromisoformat(b)).days)
    except ValueError:
        return 1 << 30


@dataclass(frozen=True)
class _Candidate:
    key: str
    agg: Agg


def _block(agg: Agg, rules: ReconcileRules) -> tuple[str, str]:
    return (
        agg.customer if rules.match_customer else "",
        agg.invoice if rules.match_invoice else "",
    )


def _pool(
    items: list[Outcome], system: str, rules: ReconcileRules, absorbed: set[str]
) -> dict[tuple[str, str], list[_Candidate]]:
    """Keys only ``system`` knows (one payment record each), blocked by customer/invoice."""
    pool: dict[tuple[str, str], list[_Candidate]] = {}
    for o in items:
        if o.key in absorbed or set(o.aggs) != {system} or o.aggs[system].payments != 1:
            continue
        agg = o.aggs[system]
        pool.setdefault(_block(agg, rules), []).append(_Candidate(o.key, agg))
    return pool


def _closest(
    pt: Agg, candidates: Iterable[_Candidate], used: set[str], rules: ReconcileRules
) -> tuple[tuple[int, int, str], _Candidate] | None:
    best: tuple[tuple[int, int, str], _Candidate] | None = None
    for cand in candidates:
        if cand.key in used:
            continue
        diff = abs(cand.agg.net_cents - pt.net_cents)
        days = _days_apart(cand.agg.day, pt.day)
        if diff > rules.fuzzy_tolerance_cents or days > rules.date_window_days:
            continue
        rank = (diff, days, cand.key)
        if best is None or rank < best[0]:
            best = (rank, cand)
    return best


def _fuzzy_mismatch(o: Outcome, system: str, cand: _Candidate, days: int) -> Discrepancy:
    pt = o.aggs["paytrace"]
    fix = SuggestedFix(
        action="correct",
        system=system,
        source_id=cand.agg.record_id or cand.key,
        field="amount",
        value=_money(pt.net_cents),
        reason=f"fuzzy pair of PayTrace {o.key}; PayTrace is the source of truth",
    )
    return Discrepancy(
        o.key,
        DiscrepancyClass.AMOUNT_MISMATCH,
        f"fuzzy pair {_LABEL[system]} {cand.agg.record_id or cand.key}: "
        f"PayTrace {_money(pt.net_cents)} vs {_money(cand.agg.net_cents)}, {days} day(s) apart",
        paytrace_cents=pt.net_cents,
        fusion_cents=cand.agg.net_cents if system == "fusion" else None,
        salesforce_cents=cand.agg.net_cents if system == "salesforce" else None,
        day=pt.day,
        batch=pt.batch or None,
        fix=fix,
    )


def fuzzy_pass(outcomes: Iterable[Outcome], rules: ReconcileRules) -> tuple[list[Outcome], int]:
    """Pair records left unmatched by exact keys, under ``rules``' fuzzy criteria.

    A PayTrace key missing in Fusion (or Salesforce) may pair with a Fusion (Salesforce)
    record whose key is unknown to PayTrace. Greedy and deterministic: PayTrace keys in
    order, each taking the closest candidate (amount, then days, then key). A pairing drops
    the "missing" findings on both sides; an amount difference beyond the exact-pair
    tolerance becomes an amount mismatch. Returns the outcomes left and how many keys were
    absorbed into another.
    """
    items = list(outcomes)
    if not rules.fuzzy:
        return items, 0
    absorbed: set[str] = set()
    for system, missing in (
        ("fusion", DiscrepancyClass.MISSING_IN_FUSION),
        ("salesforce", DiscrepancyClass.MISSING_IN_SALESFORCE),
    ):
        pool = _pool(items, system, rules, absorbed)
        if not pool:
            continue
        used: set[str] = set()
        for o in sorted(items, key=lambda x: x.key):
            if not any(d.kind is missing for d in o.found):
                continue
            pt = o.aggs["paytrace"]
            best = _closest(pt, pool.get(_block(pt, rules), ()), used, rules)
            if best is None:
                continue
            (diff, days, _), chosen = best
            used.add(chosen.key)
            absorbed.add(chosen.key)
            o.aggs[system] = chosen.agg
            o.found = [d for d in o.found if d.kind is not missing]
            if diff > rules.tolerance_cents:
                o.found.append(_fuzzy_mismatch(o, system, chosen, days))
    return [o for o in items if o.key not in absorbed], len(absorbed)
