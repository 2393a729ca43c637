"""Custom-field mapping both ways (use case 1).

* Salesforce -> PayTrace: fields of the Opportunity / Order carried into the reference fields a
  PayTrace sale or authorization accepts: ``description``, ``customer_reference_id`` and
  ``discretionary_data.<NAME>`` (``invoice_id`` is taken: it carries the flow's correlation).
* PayTrace -> Salesforce: fields of the transaction's answer (or of its export, when the
  answer was lost) into fields of ``Payment__c``.

Each mapped value comes with its explanation (:class:`Decision`); a field the record or answer
lacks is left out and the explanation says so.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from paysync_core.mapping._rules import Decision

__all__ = [
    "PAYTRACE_ANSWER_FIELDS",
    "PAYTRACE_REFERENCE_TARGETS",
    "paytrace_reference_values",
    "salesforce_custom_values",
    "validate_payment_custom_fields",
    "validate_reference_fields",
]

#: PayTrace reference fields a sale / authorization accepts (plus ``discretionary_data.<NAME>``).
PAYTRACE_REFERENCE_TARGETS: tuple[str, ...] = ("description", "customer_reference_id")
#: PayTrace answer / export fields that can be copied to ``Payment__c``.
PAYTRACE_ANSWER_FIELDS: tuple[str, ...] = (
    "approval_code",
    "approval_message",
    "avs_response",
    "csc_response",
    "status_message",
    "transaction_type",
    "invoice_id",
    "description",
    "customer_id",
)
_DISCRETIONARY = "discretionary_data."
_SALESFORCE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,79}$")
_DATA_NAME = re.compile(r"^[A-Za-z0-9_]{1,50}$")
_MAX_TEXT = 255  # PayTrace's text fields are short; longer values are cut, not refused


def _check_salesforce(key: str, name: str) -> None:
    if not _SALESFORCE_NAME.match(name):
        raise ValueError(f"{key}: {name!r} is not a Salesforce field API name")


def validate_reference_fields(mapping: Mapping[str, str]) -> dict[str, str]:
    """``custom_fields``: Salesforce field -> PayTrace reference field; errors name the key."""
    targets: dict[str, str] = {}
    for field, target in mapping.items():
        key = f"custom_fields.{field}"
        _check_salesforce(key, field)
        if target == "invoice_id":
            raise ValueError(f"{key}: invoice_id is taken (it carries the flow's correlation)")
        data_name = target.removeprefix(_DISCRETIONARY)
        if target.startswith(_DISCRETIONARY):
            if not _DATA_NAME.match(data_name):
                raise ValueError(f"{key}: {target!r} needs a discretionary_data name [A-Za-z0-9_]")
        elif target not in PAYTRACE_REFERENCE_TARGETS:
            allowed = ", ".join((*PAYTRACE_REFERENCE_TARGETS, "discretionary_data.<NAME>"))
            raise ValueError(f"{key}: {target!r} is not a PayTrace reference field ({allowed})")
        if target in targets.values() and target != "description":
            raise ValueError(f"{key}: {target!r} is already the target of another field")
        targets[field] = target
    return targets


def validate_payment_custom_fields(mapping: Mapping[str, str]) -> dict[str, str]:
    """``payment_custom_fields``: PayTrace answer field -> ``Payment__c`` field."""
    for source, field in mapping.items():
        key = f"payment_custom_fields.{source}"
        if source not in PAYTRACE_ANSWER_FIELDS:
            allowed = ", ".join(PAYTRACE_ANSWER_FIELDS)
            raise ValueError(f"{key}: {source!r} is not a PayTrace answer field ({allowed})")
        _check_salesforce(key, field)
    return dict(mapping)


def paytrace_reference_values(
    record: Mapping[str, Any], mapping: Mapping[str, str], *, what: str
) -> Decision[dict[str, str]]:
    """The reference values of one Salesforce record (``what`` names it in the reasons).

    Several fields mapped to ``description`` are joined with ``"; "``.
    """
    values: dict[str, str] = {}
    reasons: list[str] = []
    for field, target in mapping.items():
        raw = record.get(field)
        if raw is None or str(raw) == "":
            reasons.append(f"{target} not set: {what}.{field} is empty or not read")
            continue
        text = str(raw)[:_MAX_TEXT]
        values[target] = f"{values[target]}; {text}" if target in values else text
        reasons.append(f"{target} = {what}.{field} (custom_fields)")
    return Decision(values, "; ".join(reasons))


def salesforce_custom_values(
    answer: Mapping[str, str], mapping: Mapping[str, str], *, sobject: str
) -> Decision[dict[str, str]]:
    """``Payment__c`` values from a PayTrace answer; fields PayTrace did not return are left out."""
    values: dict[str, str] = {}
    reasons: list[str] = []
    for source, field in mapping.items():
        value = answer.get(source, "")
        if not value:
            reasons.append(f"{sobject}.{field} not set: PayTrace returned no {source}")
            continue
        values[field] = value
        reasons.append(f"{sobject}.{field} = PayTrace {source} (payment_custom_fields)")
    return Decision(values, "; ".join(reasons))
