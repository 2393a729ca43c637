"""Pieces several benchmarks share: a CDC event generator and the fresh-process step runner."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

__all__ = ["account_change_event", "peak_mib", "spawn_worker"]


def account_change_event(i: int) -> dict[str, Any]:
    """The ``i``-th AccountChangeEvent UPDATE, shaped as Salesforce sends it on both transports."""
    return {
        "ChangeEventHeader": {
            "entityName": "Account",
            "recordIds": [f"001{i:015d}"],
            "changeType": "UPDATE",
            "changeOrigin": "com/salesforce/api/rest/66.0;client=bench",
            "transactionKey": str(uuid.uuid4()),
            "sequenceNumber": 1,
            "commitTimestamp": 1712693965000 + i,
            "commitNumber": 1082985383811 + i,
            "commitUser": "005000000000001AAA",
            "nulledFields": ["Phone"],
            "diffFields": [],
            "changedFields": ["Name", "BillingCity", "LastModifiedDate"],
        },
        "Name": f"Account {i}",
        "BillingCity": "Spokane",
        "LastModifiedDate": "2024-04-09T20:19:25.000Z",
    }


def peak_mib() -> float:
    """This process's peak resident memory in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def spawn_worker(script: str, engine: str, data: Path, rows: int) -> dict[str, Any]:
    """Run one step of ``script`` (its ``--worker`` mode) in a fresh process, return its JSON.

    Every step gets its own process, generation included: Linux carries a parent's peak RSS
    into ``ru_maxrss`` of a child it spawns, so a big parent would inflate every reading.
    """
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, script, "--worker", engine, "--data", str(data), "--rows", str(rows)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])
