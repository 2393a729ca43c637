"""``paysync mapping check``: the configured field mappings against each target's metadata.

Drift is listed, never fixed silently. Salesforce (per sObject describe): a mapped field that
disappeared or became read-only, a type that can no longer hold the value, an external-id
field that lost its flag, a picklist value the field no longer offers, and required fields no
mapping fills (new mandatory fields break inserts). Fusion (per resource ``/describe``): an
attribute paysync sends that is gone or cannot be set on create, and a mandatory attribute
paysync never sets. Each item has a severity: ``error`` breaks writes, ``warning`` may.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from oracle_fusion_client import ResourceDescribe
from salesforce_bridge import FieldDescribe, SObjectDescribe

from ._fusion_meta import FusionWrite
from ._suggest import PAYMENT_TARGETS, TargetField

__all__ = [
    "Drift",
    "SalesforceFieldMap",
    "check_fusion_write",
    "check_salesforce_map",
    "check_sobject_mapping",
    "payment_field_kinds",
    "salesforce_field_maps",
]

_KIND_TYPES: dict[str, frozenset[str]] = {
    "decimal": frozenset({"currency", "double", "percent", "int"}),
    "datetime": frozenset({"datetime"}),
    "date": frozenset({"date", "datetime"}),
    "reference": frozenset({"reference", "id", "string"}),
    "boolean": frozenset({"boolean"}),
    "integer": frozenset({"int", "double", "currency"}),
    "picklist": frozenset({"picklist", "string", "combobox", "multipicklist"}),
}
# Fields every object has that Salesforce fills itself.
_SYSTEM_FIELDS = frozenset({"id", "ownerid", "name", "isdeleted", "createddate", "systemmodstamp"})
#: ``Payment__c.Status__c`` values ``salesforce_status`` writes by default.
PAYMENT_STATUS_VALUES = ("Authorized", "Captured", "Settled", "Refunded", "Voided", "Failed")


@dataclass(frozen=True)
class Drift:
    system: str
    object: str
    field: str
    problem: str
    mapped_from: str | None = None
    severity: str = "error"

    def __str__(self) -> str:
        source = f" (mapped from {self.mapped_from})" if self.mapped_from else ""
        return f"{self.severity}: {self.system} {self.object}.{self.field}{source}: {self.problem}"


@dataclass(frozen=True)
class SalesforceFieldMap:
    """One configured map onto one sObject: slot -> field, what each slot holds, and the
    picklist values paysync writes to a slot. ``mode``: ``upsert`` (creates records: required
    fields must be mapped), ``update`` (existing records) or ``read`` (fields only queried)."""

    sobject: str
    fields: Mapping[str, str | None]
    source: str
    kinds: Mapping[str, str] = field(default_factory=dict[str, str])
    picklists: Mapping[str, tuple[str, ...]] = field(default_factory=dict[str, tuple[str, ...]])
    external_id_slot: str | None = None
    mode: str = "upsert"


def payment_field_kinds() -> dict[str, str]:
    """Slot name -> kind for the payment mapping (what the check expects each field to hold)."""
    return {target.name: target.kind for target in PAYMENT_TARGETS}


def _picklist(found: FieldDescribe) -> tuple[list[str], bool]:
    extra = found.model_extra or {}
    raw = extra.get("picklistValues")
    values: list[str] = []
    if isinstance(raw, list):
        for item in cast(list[Any], raw):
            if isinstance(item, dict):
                entry = cast(dict[str, Any], item)
                if entry.get("active", True) and entry.get("value") is not None:
                    values.append(str(entry["value"]))
    return values, bool(extra.get("restrictedPicklist", False))


def check_salesforce_map(  # noqa: PLR0912 - one branch per documented kind of drift
    describe: SObjectDescribe, spec: SalesforceFieldMap
) -> list[Drift]:
    """Problems of writing ``spec`` to the object ``describe`` describes."""
    name_of = describe.name
    drift: list[Drift] = []
    mapped: set[str] = set()

    def add(field_name: str, problem: str, slot: str | None, severity: str = "error") -> None:
        drift.append(Drift("salesforce", name_of, field_name, problem, slot, severity))

    for slot, name in spec.fields.items():
        if name is None:
            continue
        mapped.add(name.lower())
        found = describe.field(name)
        if found is None:
            add(name, "field does not exist", slot)
            continue
        if spec.mode == "read":
            continue
        writable = found.updateable if spec.mode == "update" else found.createable
        if not (found.createable or found.updateable):
            add(name, "field is read-only", slot)
        elif not writable:
            verb = "updateable" if spec.mode == "update" else "createable"
            add(name, f"field is not {verb}", slot, "warning")
        wanted = _KIND_TYPES.get(spec.kinds.get(slot, ""))
        if wanted is not None and found.type.lower() not in wanted:
            add(name, f"type {found.type} cannot hold a {spec.kinds[slot]} value", slot)
        if slot == spec.external_id_slot and not found.external_id:
            add(name, "not marked as an External ID", slot)
        offered, restricted = _picklist(found)
        if found.type.lower() == "picklist" and offered:
            for value in spec.picklists.get(slot, ()):
                if value not in offered:
                    add(
                        name,
                        f"picklist value {value!r} is not offered",
                        slot,
                        "error" if restricted else "warning",
                    )
    if spec.mode == "upsert":
        for item in describe.fields:
            required = item.createable and not item.nillable and item.type.lower() != "boolean"
            if required and item.name.lower() not in mapped | _SYSTEM_FIELDS:
                add(item.name, "required field is not mapped", None)
    return drift


def check_sobject_mapping(
    describe: SObjectDescribe,
    fields: Mapping[str, str | None],
    *,
    kinds: Mapping[str, str] | None = None,
    external_id_slot: str | None = "external_id",
    targets: tuple[TargetField, ...] = (),
) -> list[Drift]:
    """Problems of writing the mapped ``fields`` (slot -> Salesforce field) to ``describe``.

    ``kinds`` gives the value kind of each slot (see :func:`payment_field_kinds`).
    """
    spec = SalesforceFieldMap(
        describe.name,
        fields,
        "payment_fields",
        kinds=kinds or {t.name: t.kind for t in targets},
        external_id_slot=external_id_slot,
    )
    return check_salesforce_map(describe, spec)


def _dump(model: object, exclude: set[str]) -> dict[str, str | None]:
    dump = getattr(model, "model_dump", None)
    if dump is None:
        return {}
    values = cast(dict[str, Any], dump())
    return {
        k: v for k, v in values.items() if k not in exclude and (v is None or isinstance(v, str))
    }


def _payment_maps(name: str, model: object) -> list[SalesforceFieldMap]:
    """The ``Payment__c`` maps of one use case: its ``payment_fields`` and the fields it
    writes or reads next to them."""
    payment = getattr(model, "payment_fields", None)
    if payment is None:
        return []
    maps: list[SalesforceFieldMap] = []
    sobject = str(getattr(payment, "sobject", "Payment__c"))
    fields = _dump(payment, {"sobject"})
    source = f"{name}.payment_fields"
    if name == "refunds":
        kinds = {"refunded_amount": "decimal", "account": "reference"}
        picks = {"status": ("Voided", "Refunded", "Settled")}
        maps.append(
            SalesforceFieldMap(sobject, fields, source, kinds, picks, "external_id", "update")
        )
    else:
        extra_order = getattr(model, "payment_order_field", None)
        if isinstance(extra_order, str):
            fields["payment_order_field"] = extra_order
        lookup = getattr(getattr(model, "fields", None), "payment_lookup", None)
        if name == "recurring_billing" and isinstance(lookup, str):
            fields["fields.payment_lookup"] = lookup
        kinds = {
            **payment_field_kinds(),
            "order": "reference",
            "payment_order_field": "reference",
            "fields.payment_lookup": "reference",
        }
        picks = {"status": PAYMENT_STATUS_VALUES}
        maps.append(SalesforceFieldMap(sobject, fields, source, kinds, picks, "external_id"))
    custom = getattr(model, "payment_custom_fields", None)
    if isinstance(custom, dict) and custom:
        pairs = cast(dict[str, str], custom)
        written = {f"payment_custom_fields.{k}": str(v) for k, v in pairs.items()}
        maps.append(SalesforceFieldMap(sobject, written, f"{name}.payment_custom_fields"))
    requests = getattr(model, "salesforce_requests", None)
    if requests is not None:
        read = _dump(requests, set())
        maps.append(SalesforceFieldMap(sobject, read, f"{name}.salesforce_requests", mode="read"))
    return maps


def salesforce_field_maps(options: Mapping[str, object]) -> list[SalesforceFieldMap]:
    """Every Salesforce field map of the given use cases (name -> validated options)."""
    maps: list[SalesforceFieldMap] = []
    for name, model in options.items():
        maps += _payment_maps(name, model)
        reference = getattr(model, "custom_fields", None)
        if isinstance(reference, dict) and reference:
            read = {f"custom_fields.{k}": str(k) for k in cast(dict[str, str], reference)}
            maps.append(
                SalesforceFieldMap("Opportunity", read, f"{name}.custom_fields", mode="read")
            )
        order = getattr(model, "order_fields", None)
        if order is not None:
            booked = str(getattr(order, "booked_status", ""))
            done = str(getattr(order, "completed_status", ""))
            fields = _dump(order, {"sobject", "booked_status", "completed_status"})
            maps.append(
                SalesforceFieldMap(
                    str(getattr(order, "sobject", "Order")),
                    fields,
                    f"{name}.order_fields",
                    {"account": "reference", "effective_date": "date", "status": "picklist"},
                    {"status": (booked, done)},
                    "external_id",
                )
            )
        subscription = getattr(model, "fields", None)
        if subscription is not None and name == "recurring_billing":
            fields = _dump(subscription, {"sobject", "payment_lookup"})
            maps.append(
                SalesforceFieldMap(
                    str(getattr(subscription, "sobject", "Subscription__c")),
                    fields,
                    f"{name}.fields",
                    {
                        "amount": "decimal",
                        "next_charge_date": "date",
                        "failed_attempts": "integer",
                        "account": "reference",
                    },
                    mode="update",
                )
            )
        task = getattr(model, "task", None)
        if task is not None:
            maps.append(_followup(task, f"{name}.task"))
        chargebacks = getattr(model, "chargebacks", None)
        case = getattr(chargebacks, "case", None) if chargebacks is not None else None
        if case is not None:
            maps.append(_followup(case, f"{name}.chargebacks.case"))
    return maps


def _followup(model: object, source: str) -> SalesforceFieldMap:
    """A Task / Case follow-up: its ``*_value`` options are the picklist values written."""
    values = _dump(model, {"sobject"})
    fields = {k: v for k, v in values.items() if not k.endswith("_value")}
    picks = {
        k.removesuffix("_value"): (str(v),) for k, v in values.items() if k.endswith("_value") and v
    }
    kinds = {"account": "reference", "what": "reference", "amount": "decimal"}
    return SalesforceFieldMap(
        str(getattr(model, "sobject", "")), fields, source, kinds, picks, "external_id"
    )


def check_fusion_write(describe: ResourceDescribe, write: FusionWrite) -> list[Drift]:
    """Problems of sending ``write`` to the resource ``describe`` describes."""
    drift: list[Drift] = []

    def check(where: ResourceDescribe, label: str, names: Sequence[str]) -> None:
        for name in names:
            found = where.attribute(name)
            if found is None:
                drift.append(Drift("fusion", label, name, "attribute does not exist", write.source))
            elif write.mode == "create" and not found.writable_on_create:
                problem = "attribute is not updatable on create (read-only)"
                drift.append(Drift("fusion", label, name, problem, write.source))
            elif write.mode == "read" and not found.queryable:
                problem = "attribute is not queryable"
                drift.append(Drift("fusion", label, name, problem, write.source, "warning"))
        if write.mode != "create":
            return
        for attribute in where.attributes:
            if attribute.mandatory and attribute.writable_on_create and attribute.name not in names:
                problem = "mandatory attribute is never set by paysync"
                drift.append(Drift("fusion", label, attribute.name, problem, write.source))

    check(describe, describe.name, write.attributes)
    for child, names in write.children.items():
        found_child = describe.child(child)
        if found_child is None:
            problem = "child collection does not exist"
            drift.append(Drift("fusion", describe.name, child, problem, write.source))
            continue
        check(found_child, f"{describe.name}.{child}", names)
    return drift
