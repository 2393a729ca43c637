"""``paysync mapping check``: the configured field mappings against the live org's describe.

Drift is listed, never fixed silently: a mapped field that disappeared or became read-only, a
type that can no longer hold the value, an external-id field that lost its external-id flag, and
required fields of the object that no mapping fills (new mandatory fields break inserts).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from salesforce_bridge import SObjectDescribe

from ._suggest import PAYMENT_TARGETS, TargetField

__all__ = ["Drift", "check_sobject_mapping", "payment_field_kinds"]

_KIND_TYPES: dict[str, frozenset[str]] = {
    "decimal": frozenset({"currency", "double", "percent", "int"}),
    "datetime": frozenset({"datetime"}),
    "date": frozenset({"date", "datetime"}),
    "reference": frozenset({"reference", "id", "string"}),
    "boolean": frozenset({"boolean"}),
}
# Fields every object has that Salesforce fills itself.
_SYSTEM_FIELDS = frozenset({"id", "ownerid", "name", "isdeleted", "createddate", "systemmodstamp"})


@dataclass(frozen=True)
class Drift:
    system: str
    object: str
    field: str
    problem: str
    mapped_from: str | None = None

    def __str__(self) -> str:
        source = f" (mapped from {self.mapped_from})" if self.mapped_from else ""
        return f"{self.system} {self.object}.{self.field}{source}: {self.problem}"


def payment_field_kinds() -> dict[str, str]:
    """Slot name -> kind for the payment mapping (what the check expects each field to hold)."""
    return {target.name: target.kind for target in PAYMENT_TARGETS}


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
    kinds = kinds or {t.name: t.kind for t in targets}
    drift: list[Drift] = []
    mapped: set[str] = set()
    for slot, name in fields.items():
        if name is None:
            continue
        mapped.add(name.lower())
        found = describe.field(name)
        if found is None:
            drift.append(Drift("salesforce", describe.name, name, "field does not exist", slot))
            continue
        if not (found.createable or found.updateable):
            drift.append(Drift("salesforce", describe.name, name, "field is read-only", slot))
        wanted = _KIND_TYPES.get(kinds.get(slot, ""))
        if wanted is not None and found.type.lower() not in wanted:
            drift.append(
                Drift(
                    "salesforce",
                    describe.name,
                    name,
                    f"type {found.type} cannot hold a {kinds[slot]} value",
                    slot,
                )
            )
        if slot == external_id_slot and not found.external_id:
            drift.append(
                Drift("salesforce", describe.name, name, "not marked as an External ID", slot)
            )
    for field in describe.fields:
        required = field.createable and not field.nillable and field.type.lower() != "boolean"
        if required and field.name.lower() not in mapped | _SYSTEM_FIELDS:
            drift.append(
                Drift("salesforce", describe.name, field.name, "required field is not mapped")
            )
    return drift
