"""Custom-field mapping both ways, one mechanism for every use case that charges or records a
payment (1 order to cash, 2 web sales, 3 refunds, 7 subscription charges).

* Salesforce -> PayTrace (``custom_fields``): fields of the triggering record (Opportunity /
  Order, ``Subscription__c``) carried into the reference fields a PayTrace sale or
  authorization accepts: ``description``, ``customer_reference_id`` and
  ``discretionary_data.<NAME>`` (``invoice_id`` is taken: it carries the flow's correlation).
  The trigger's SOQL must select those fields: :func:`soql_source_fields` lists them for the
  pollers, which add them to their ``SELECT`` automatically.
* PayTrace -> Salesforce (``payment_custom_fields``, ``order_custom_fields``): fields of the
  transaction's answer or export record (:func:`paytrace_record_fields` flattens one, its
  ``discretionary_data`` included as ``discretionary_data.<NAME>``) into Salesforce fields.

Each mapped value comes with its explanation (:class:`Decision`); a field the record or answer
lacks is left out and the explanation says so.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Annotated, Any, cast

from pydantic import AfterValidator

from paysync_core.mapping._rules import Decision

__all__ = [
    "PAYTRACE_ANSWER_FIELDS",
    "PAYTRACE_REFERENCE_TARGETS",
    "OrderCustomFieldMap",
    "PaymentCustomFieldMap",
    "ReferenceFieldMap",
    "paytrace_record_fields",
    "paytrace_reference_values",
    "salesforce_custom_values",
    "soql_source_fields",
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
    "customer_reference_id",
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


def validate_payment_custom_fields(
    mapping: Mapping[str, str], *, option: str = "payment_custom_fields"
) -> dict[str, str]:
    """``payment_custom_fields`` (or ``option``): PayTrace answer / export field (or
    ``discretionary_data.<NAME>``) -> Salesforce field; errors name the key."""
    for source, field in mapping.items():
        key = f"{option}.{source}"
        if source.startswith(_DISCRETIONARY):
            if not _DATA_NAME.match(source.removeprefix(_DISCRETIONARY)):
                raise ValueError(f"{key}: {source!r} needs a discretionary_data name [A-Za-z0-9_]")
        elif source not in PAYTRACE_ANSWER_FIELDS:
            allowed = ", ".join((*PAYTRACE_ANSWER_FIELDS, "discretionary_data.<NAME>"))
            raise ValueError(f"{key}: {source!r} is not a PayTrace answer field ({allowed})")
        _check_salesforce(key, field)
    return dict(mapping)


def soql_source_fields(mapping: Mapping[str, str]) -> tuple[str, ...]:
    """The Salesforce fields ``custom_fields`` reads: a poller adds them to its ``SELECT``
    (the names were validated as API names, so they are safe to splice into SOQL)."""
    return tuple(mapping)


def paytrace_record_fields(record: object) -> dict[str, str]:
    """A PayTrace answer or export record (``ExportedTransaction``, or a mapping) flattened to
    the names ``payment_custom_fields`` uses; ``discretionary_data`` values become
    ``discretionary_data.<NAME>``. Empty values are left out."""

    def get(name: str) -> object:
        if isinstance(record, Mapping):
            return cast("Mapping[str, object]", record).get(name)
        return getattr(record, name, None)

    values: dict[str, str] = {}
    for name in PAYTRACE_ANSWER_FIELDS:
        value = get(name)
        if value is not None and str(value).strip():
            values[name] = str(value).strip()
    data = get("discretionary_data")
    if isinstance(data, Mapping):
        for name, value in cast("Mapping[object, object]", data).items():
            if value is not None and str(value).strip():
                values[f"{_DISCRETIONARY}{name}"] = str(value).strip()
    return values


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
    answer: Mapping[str, str],
    mapping: Mapping[str, str],
    *,
    sobject: str,
    option: str = "payment_custom_fields",
) -> Decision[dict[str, str]]:
    """Salesforce values from a PayTrace answer / export record (flattened by
    :func:`paytrace_record_fields`); fields PayTrace did not return are left out."""
    values: dict[str, str] = {}
    reasons: list[str] = []
    for source, field in mapping.items():
        value = answer.get(source, "")
        if not value:
            reasons.append(f"{sobject}.{field} not set: PayTrace returned no {source}")
            continue
        values[field] = value
        reasons.append(f"{sobject}.{field} = PayTrace {source} ({option})")
    return Decision(values, "; ".join(reasons))


#: Option types of the use-case configs (validated where the option is declared; errors name
#: the option and the key).
ReferenceFieldMap = Annotated[dict[str, str], AfterValidator(validate_reference_fields)]
PaymentCustomFieldMap = Annotated[dict[str, str], AfterValidator(validate_payment_custom_fields)]
OrderCustomFieldMap = Annotated[
    dict[str, str],
    AfterValidator(functools.partial(validate_payment_custom_fields, option="order_custom_fields")),
]
