"""Step summaries: the payload a write step sends, per system, for ``paysync plan`` and the
ledger's ``request_summary`` (the engine redacts it on write; card data never reaches it).

A summary is computed twice: in a dry run, where results of earlier steps are placeholders
(``<charge.transaction_id>``), and before the real call, with the real results. So a summary
never parses an earlier step's result; :func:`known` says whether one is real.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel
from pydantic_core import to_jsonable_python

from paysync_core import StepContext

__all__ = ["fusion_payload", "known", "result", "salesforce_upsert"]


def result(ctx: StepContext, step: str, key: str) -> str:
    """An earlier step's result, or its placeholder in a dry run."""
    return ctx.results[step][key]


def known(value: str) -> bool:
    """False for a dry run's placeholder (``<step.key>``)."""
    return not (value.startswith("<") and value.endswith(">"))


def fusion_payload(resource: str, body: BaseModel, **extra: object) -> dict[str, object]:
    """A Fusion request: the REST resource and its JSON body (the client's model)."""
    return {
        "resource": resource,
        "body": body.model_dump(mode="json", by_alias=True, exclude_none=True),
        **{k: to_jsonable_python(v) for k, v in extra.items()},
    }


def salesforce_upsert(
    sobject: str, external_id: str, value: str, fields: Mapping[str, Any], **extra: object
) -> dict[str, object]:
    """A Salesforce upsert: object, external id and the record's fields."""
    return {
        "sobject": sobject,
        "upsert_by": {external_id: value},
        "fields": to_jsonable_python(dict(fields)),
        **{k: to_jsonable_python(v) for k, v in extra.items()},
    }
