"""``/sobjects/<Obj>/updated`` and ``/deleted`` (``?start=&end=``): the replication resources
simple-salesforce's ``SFType.updated()``/``deleted()`` call.

Answers: ``{"ids":[...],"latestDateCovered":...}`` and
``{"deletedRecords":[{"id","deletedDate"}],"earliestDateAvailable":...,"latestDateCovered":...}``.
Salesforce covers whole minutes, so ``latestDateCovered`` is ``end`` rounded down to the minute.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from ._schema import ObjectDef
from ._store import ApiFailure, Org, error

__all__ = ["replication"]

_FORMAT = "%Y-%m-%dT%H:%M:%S.000+0000"


def _parse(name: str, raw: str | None) -> datetime:
    if not raw:
        raise ApiFailure(400, [error("MISSING_ARGUMENT", f"{name} not specified")])
    text = raw.strip().replace(" ", "+")  # an unencoded "+" arrives as a space
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = f"{text[:-2]}:{text[-2:]}"  # +0000 -> +00:00
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        msg = f"Invalid {name} date: {raw}"
        raise ApiFailure(400, [error("INVALID_REPLICATION_DATE", msg)]) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _stamp(record: Mapping[str, Any]) -> datetime | None:
    raw = record.get("SystemModstamp") or record.get("LastModifiedDate")
    return _parse("SystemModstamp", str(raw)) if raw else None


def replication(org: Org, obj: ObjectDef, kind: str, params: Mapping[str, str]) -> dict[str, Any]:
    """The answer of ``kind`` (``updated`` or ``deleted``) for ``start``..``end``."""
    start, end = _parse("start", params.get("start")), _parse("end", params.get("end"))
    if end < start:
        msg = "end date cannot be before start date"
        raise ApiFailure(400, [error("INVALID_REPLICATION_DATE", msg)])
    covered = end.replace(second=0, microsecond=0)
    latest = covered.strftime(_FORMAT)

    def within(record: Mapping[str, Any]) -> bool:
        stamp = _stamp(record)
        return stamp is not None and start <= stamp <= end

    if kind == "updated":
        ids = [str(r["Id"]) for r in org.table(obj).values() if within(r)]
        return {"ids": ids, "latestDateCovered": latest}
    binned = org.recycle_bin.get(obj.name, {}).values()
    deleted = [
        {"id": str(r["Id"]), "deletedDate": str(r.get("SystemModstamp"))}
        for r in binned
        if within(r)
    ]
    return {
        "deletedRecords": deleted,
        "earliestDateAvailable": start.replace(second=0, microsecond=0).strftime(_FORMAT),
        "latestDateCovered": latest,
    }
