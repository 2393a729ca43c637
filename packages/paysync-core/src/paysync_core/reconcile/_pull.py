"""Load the three systems named in ``paysync.toml`` into record files (``--config``).

The clients come from :func:`paysync_core.config.build_clients` with a
:class:`~paysync_core.config.SecretResolver`, so credentials are read from their providers
(environment, files, keyring), never from the configuration file. Each loader streams into
its file in the work directory; nothing is held in memory.
"""

from __future__ import annotations

from collections.abc import Generator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from os import PathLike
from pathlib import Path

from paysync_core._errors import PaysyncError
from paysync_core._ledger import LedgerStore
from paysync_core.config import Clients, SecretResolver, build_clients, load_config
from salesforce_bridge import SalesforceBridge

from ._customers import customer_keys
from ._loaders import export_fusion, export_paytrace, export_salesforce
from ._model import ReconcileInputError

__all__ = ["RecordFiles", "clients_from_config", "pull_records"]

#: Salesforce payments paysync recorded (the seeded or hand-made ones carry no processing time).
DEFAULT_SALESFORCE_WHERE = "Processed_At__c != null"
#: Optional ``Payment__c`` fields paysync's use cases write: the Account (customer column)
#: and what use case 3 refunded (netted against the payment). Read when the org has them.
SALESFORCE_CUSTOMER_FIELD = "Account__c"
SALESFORCE_REFUNDED_FIELD = "Refunded_Amount__c"


@dataclass(frozen=True)
class RecordFiles:
    """The record files of one load, as :func:`~paysync_core.reconcile.reconcile` takes them."""

    paytrace: Path
    fusion: Path
    salesforce: Path | None
    batches: Path | None

    @classmethod
    def in_dir(cls, workdir: Path) -> RecordFiles:
        return cls(
            workdir / "paytrace.csv",
            workdir / "fusion.csv",
            workdir / "salesforce.csv",
            workdir / "batches.csv",
        )


def clients_from_config(
    path: str | PathLike[str], resolver: SecretResolver | None = None
) -> Clients:
    """The configured clients; a configuration problem is a ``ReconcileInputError`` on
    ``--config`` (the messages name keys and references, never secret values)."""
    try:
        return build_clients(load_config(Path(path)), resolver or SecretResolver())
    except PaysyncError as exc:
        raise ReconcileInputError("--config", str(exc)) from None


def pull_records(
    clients: Clients,
    start: date,
    end: date,
    workdir: str | PathLike[str],
    *,
    salesforce: bool = True,
    salesforce_where: str = DEFAULT_SALESFORCE_WHERE,
    salesforce_bulk: bool = False,
    ledger: LedgerStore | None = None,
) -> RecordFiles:
    """PayTrace transactions created (and batches settled) from ``start`` to ``end``, every
    Fusion receipt and refund credit memo, and the Salesforce payments, into ``workdir``.

    Fusion and Salesforce are read whole: the reconciliation's date window (on each record's
    day) decides what is compared, so a receipt dated a day after its sale still pairs.
    ``salesforce=False`` skips Salesforce (anomaly detection does not read it);
    ``salesforce_bulk=True`` reads it through a Bulk API 2.0 query job.

    ``Payment__c.Account__c`` fills the Salesforce customer column and
    ``Refunded_Amount__c`` is netted, when the org has those fields. With a ``ledger``, every
    customer id (PayTrace vault id, Fusion account number, Salesforce Account id) is mapped
    to its Salesforce Account id through the ledger's cross-reference table, so fuzzy
    customer rules compare like with like.
    """
    if start > end:
        raise ReconcileInputError("--from", "is after --to")
    needed = ["paytrace", "fusion", *(["salesforce"] if salesforce else [])]
    missing = [name for name in needed if getattr(clients, name) is None]
    if missing:
        raise ReconcileInputError("--config", f"needs [{'], ['.join(missing)}] sections")
    directory = Path(workdir)
    directory.mkdir(parents=True, exist_ok=True)
    files = RecordFiles.in_dir(directory)
    batches = directory / "batches.csv"
    assert clients.paytrace is not None  # checked above
    assert clients.fusion is not None
    keys = customer_keys(ledger) if ledger is not None else None
    with _loading("paytrace"):
        export_paytrace(
            clients.paytrace,
            start,
            end,
            files.paytrace,
            batches=batches,
            customer_key=keys.mapper("paytrace") if keys else None,
        )
    with _loading("fusion"):
        export_fusion(
            clients.fusion, files.fusion, customer_key=keys.mapper("fusion") if keys else None
        )
    if not salesforce:
        return RecordFiles(files.paytrace, files.fusion, None, files.batches)
    assert clients.salesforce is not None
    salesforce_file = directory / "salesforce.csv"
    with _loading("salesforce"):
        present = _payment_fields(clients.salesforce)
        export_salesforce(
            clients.salesforce,
            salesforce_file,
            where=salesforce_where,
            customer_field=SALESFORCE_CUSTOMER_FIELD
            if SALESFORCE_CUSTOMER_FIELD in present
            else None,
            refunded_field=SALESFORCE_REFUNDED_FIELD
            if SALESFORCE_REFUNDED_FIELD in present
            else None,
            customer_key=keys.mapper("salesforce") if keys else None,
            bulk=salesforce_bulk,
        )
    return files


def _payment_fields(bridge: SalesforceBridge) -> set[str]:
    """The optional ``Payment__c`` fields this org has (one describe call)."""
    described = bridge.describe("Payment__c")
    wanted = (SALESFORCE_CUSTOMER_FIELD, SALESFORCE_REFUNDED_FIELD)
    return {name for name in wanted if described.field(name) is not None}


@contextmanager
def _loading(system: str) -> Generator[None, None, None]:
    """A failing client (refused credentials, an unreachable host) becomes an input error
    naming the system; the clients' messages carry no secrets."""
    try:
        yield
    except ReconcileInputError:
        raise
    except Exception as exc:  # every client's own error family
        raise ReconcileInputError(system, f"cannot load: {type(exc).__name__}: {exc}") from None
