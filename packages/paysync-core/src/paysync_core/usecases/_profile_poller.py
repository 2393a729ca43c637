"""Vault profiles changed in PayTrace, found by polling ``customer/export`` (use case 5).

PayTrace v1 has no webhooks and ``customer/export`` carries no change timestamp, so a change
is a new digest of a profile's synced fields (billing name, billing address, email: never
card data, which the digest does not read). The digests live in ``paysync_profile_digests``
in the ledger, each written **in the transaction that submits the profile's flow** (the
engine's ``checkpoint`` hook, as :mod:`._paytrace_poller` moves its cursor): a crash loses
nothing and repeats nothing. A profile paysync itself just wrote has a new digest too; the
use case sees it equals the synced state and returns the flow that wrote it (no ping-pong).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

from paysync_core import Engine, FlowRecord, LedgerStore, LedgerTransaction, SubmitHook
from paysync_core.mapping import groups_from_paytrace
from paysync_core.ports import PayTracePort
from paytrace_client.models import CustomerRecord

__all__ = ["PROFILE_DIGESTS_TABLE", "PayTraceProfilePoller", "ProfileHandler", "ProfilePollReport"]

PROFILE_DIGESTS_TABLE = "paysync_profile_digests"
_CREATE = (
    f"CREATE TABLE IF NOT EXISTS {PROFILE_DIGESTS_TABLE} ("
    "name TEXT NOT NULL, customer_id TEXT NOT NULL, digest TEXT NOT NULL, "
    "updated_at TEXT NOT NULL, PRIMARY KEY (name, customer_id))"
)
_UPSERT = (
    "INSERT INTO paysync_profile_digests (name, customer_id, digest, updated_at) "
    "VALUES (?, ?, ?, ?) ON CONFLICT (name, customer_id) DO UPDATE SET "
    "digest = excluded.digest, updated_at = excluded.updated_at"
)

#: ``CustomerSync.submit_paytrace_profile``: a flow, or ``None`` for a profile not linked.
ProfileHandler = Callable[..., FlowRecord | None]


@dataclass
class ProfilePollReport:
    """What one :meth:`PayTraceProfilePoller.poll_report` did."""

    read: int = 0
    """Profiles in the export."""
    changed: int = 0
    """Profiles whose synced fields differ from the stored digest (or are new)."""
    submitted: list[str] = field(default_factory=list[str])
    """Flows started for profile changes made in PayTrace."""
    echoes: int = 0
    """Changes that were paysync's own writes (the flow that made them was returned)."""
    ignored: int = 0
    """Profiles the cross-reference does not know."""


def profile_digest(record: CustomerRecord) -> str:
    """A digest of the synced fields only (the card is not read)."""
    content = json.dumps(groups_from_paytrace(record).value, sort_keys=True, default=str)
    return hashlib.sha256(content.encode()).hexdigest()[:32]


class PayTraceProfilePoller:
    """Reads every profile, hands the changed ones to ``handler``. ``poll`` (the runner's
    ``Source``) returns how many it handed over."""

    def __init__(
        self,
        paytrace: PayTracePort,
        handler: ProfileHandler,
        *,
        name: str = "paytrace-profiles",
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ) -> None:
        self.paytrace = paytrace
        self.handler = handler
        self.name = name
        self._clock = clock

    def _digests(self, store: LedgerStore) -> dict[str, str]:
        with store.transaction() as tx:
            tx.execute(_CREATE)
            rows = tx.execute(
                f"SELECT customer_id, digest FROM {PROFILE_DIGESTS_TABLE} WHERE name = ?",  # noqa: S608
                (self.name,),
            )
        return {str(r[0]): str(r[1]) for r in rows}

    def _store(self, tx: LedgerTransaction, customer_id: str, digest: str) -> None:
        tx.execute(_CREATE)
        tx.execute(_UPSERT, (self.name, customer_id, digest, self._clock().isoformat()))

    def poll(self, engine: Engine) -> int:
        report = self.poll_report(engine)
        return report.changed

    def poll_report(self, engine: Engine) -> ProfilePollReport:
        known = self._digests(engine.store)
        records = sorted(self.paytrace.profile_records(), key=lambda r: r.customer_id)
        report = ProfilePollReport(read=len(records))
        for record in records:
            digest = profile_digest(record)
            if known.get(record.customer_id) == digest:
                continue
            report.changed += 1
            customer_id = record.customer_id

            def checkpoint(
                tx: LedgerTransaction, _flow: FlowRecord, cid: str = customer_id, d: str = digest
            ) -> None:
                self._store(tx, cid, d)

            hook: SubmitHook = checkpoint
            flow = self.handler(engine, record, checkpoint=hook)
            if flow is None:
                report.ignored += 1
                with engine.store.transaction() as tx:  # nothing submitted: just remember it
                    self._store(tx, customer_id, digest)
            elif flow.source_system == "paytrace" and flow.source_id == customer_id:
                report.submitted.append(flow.flow_id)
            else:
                report.echoes += 1
        return report
