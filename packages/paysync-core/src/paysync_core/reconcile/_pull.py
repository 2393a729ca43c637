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
from paysync_core.config import Clients, SecretResolver, build_clients, load_config

from ._loaders import export_fusion, export_paytrace, export_salesforce
from ._model import ReconcileInputError

__all__ = ["RecordFiles", "clients_from_config", "pull_records"]

#: Salesforce payments paysync recorded (the seeded or hand-made ones carry no processing time).
DEFAULT_SALESFORCE_WHERE = "Processed_At__c != null"


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
) -> RecordFiles:
    """PayTrace transactions created (and batches settled) from ``start`` to ``end``, every
    Fusion receipt and refund credit memo, and the Salesforce payments, into ``workdir``.

    Fusion and Salesforce are read whole: the reconciliation's date window (on each record's
    day) decides what is compared, so a receipt dated a day after its sale still pairs.
    ``salesforce=False`` skips Salesforce (anomaly detection does not read it).
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
    with _loading("paytrace"):
        export_paytrace(clients.paytrace, start, end, files.paytrace, batches=batches)
    with _loading("fusion"):
        export_fusion(clients.fusion, files.fusion)
    if not salesforce:
        return RecordFiles(files.paytrace, files.fusion, None, files.batches)
    assert clients.salesforce is not None
    salesforce_file = directory / "salesforce.csv"
    with _loading("salesforce"):
        export_salesforce(clients.salesforce, salesforce_file, where=salesforce_where)
    return files


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
