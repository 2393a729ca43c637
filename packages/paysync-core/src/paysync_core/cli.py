"""The ``paysync`` command line.

    paysync --version
    paysync [--ledger URL] dlq list [--all] [--json]
    paysync [--ledger URL] dlq show ENTRY_ID
    paysync [--ledger URL] dlq retry ENTRY_ID [--input FILE.json]
    paysync [--ledger URL] dlq resolve ENTRY_ID [--note TEXT]
    paysync [--ledger URL] audit verify [--expected-head HASH]
    paysync [--ledger URL] audit export [--output FILE]

The ledger defaults to ``$PAYSYNC_LEDGER`` or ``paysync.db`` in the current directory.
Exit codes: 0 success, 1 verification failure or operator error, 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import asdict
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import cast

from ._audit import AuditTrail
from ._dlq import DeadLetterQueue
from ._errors import AuditVerificationError, PaysyncError
from ._ledger import LedgerStore
from ._model import DeadLetterStatus
from ._open import open_ledger

__all__ = ["main"]


def _version() -> str:
    try:
        return version("paysync-core")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0+unknown"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="paysync", description="paysync exactly-once engine")
    parser.add_argument("--version", action="version", version=f"paysync {_version()}")
    parser.add_argument(
        "--ledger",
        default=os.environ.get("PAYSYNC_LEDGER", "paysync.db"),
        help="ledger URL: a SQLite path or postgresql://... (default: $PAYSYNC_LEDGER)",
    )
    parser.add_argument("--schema", default="paysync", help="PostgreSQL schema of the ledger")
    verbs = parser.add_subparsers(dest="verb", required=True)

    dlq = verbs.add_parser("dlq", help="dead-letter queue").add_subparsers(
        dest="action", required=True
    )
    listing = dlq.add_parser("list", help="list dead-letter entries")
    listing.add_argument("--all", action="store_true", help="include retried and resolved")
    listing.add_argument("--json", action="store_true", help="JSON lines instead of a table")
    show = dlq.add_parser("show", help="show an entry with its evidence")
    show.add_argument("entry_id")
    retry = dlq.add_parser("retry", help="re-queue the entry's flow")
    retry.add_argument("entry_id")
    retry.add_argument("--input", type=Path, help="JSON file replacing the flow's input")
    resolve = dlq.add_parser("resolve", help="close an entry without retrying")
    resolve.add_argument("entry_id")
    resolve.add_argument("--note")

    audit = verbs.add_parser("audit", help="audit trail").add_subparsers(
        dest="action", required=True
    )
    verify = audit.add_parser("verify", help="verify the hash chain")
    verify.add_argument("--expected-head", help="head hash recorded earlier")
    export = audit.add_parser("export", help="export as JSON lines")
    export.add_argument("--output", type=Path, help="file (default: stdout)")
    return parser


def _dump(value: object) -> str:
    return json.dumps(value, default=str, sort_keys=True)


def _dlq(store: LedgerStore, args: argparse.Namespace) -> int:
    queue = DeadLetterQueue(store)
    action = cast(str, args.action)
    if action == "list":
        entries = queue.list(None if args.all else DeadLetterStatus.OPEN)
        for entry in entries:
            if args.json:
                print(_dump(asdict(entry)))
            else:
                print(
                    f"{entry.entry_id}  {entry.status.value:8}  x{entry.occurrences:<3} "
                    f"{entry.step_name}  {entry.reason}  {entry.last_error or ''}"
                )
        if not entries and not args.json:
            print("no dead letters")
        return 0
    if action == "show":
        detail = queue.show(cast(str, args.entry_id))
        print(json.dumps(asdict(detail), default=str, indent=2, sort_keys=True))
        return 0
    if action == "retry":
        new_input: dict[str, object] | None = None
        if args.input is not None:
            new_input = cast(dict[str, object], json.loads(cast(Path, args.input).read_text()))
        flow = queue.retry(cast(str, args.entry_id), input=new_input)
        print(f"flow {flow.flow_id} re-queued")
        return 0
    entry = queue.resolve(cast(str, args.entry_id), note=cast("str | None", args.note))
    print(f"entry {entry.entry_id} resolved")
    return 0


def _audit(store: LedgerStore, args: argparse.Namespace) -> int:
    trail = AuditTrail(store)
    if args.action == "verify":
        try:
            report = trail.verify(expected_head=cast("str | None", args.expected_head))
        except AuditVerificationError as exc:
            print(f"audit trail INVALID: {exc}", file=sys.stderr)
            return 1
        print(f"audit trail OK: {report.count} records, head {report.head}")
        return 0
    output = cast("Path | None", args.output)
    if output is None:
        trail.export_jsonl(sys.stdout)
    else:
        with output.open("w", encoding="utf-8") as handle:
            count = trail.export_jsonl(handle)
        print(f"{count} records written to {output}", file=sys.stderr)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        store = open_ledger(cast(str, args.ledger), schema=cast(str, args.schema))
    except PaysyncError as exc:
        print(f"paysync: cannot open ledger: {exc}", file=sys.stderr)
        return 1
    try:
        if args.verb == "dlq":
            return _dlq(store, args)
        return _audit(store, args)
    except PaysyncError as exc:
        print(f"paysync: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
