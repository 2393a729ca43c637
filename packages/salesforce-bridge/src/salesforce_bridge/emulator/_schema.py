"""Seeded sObject definitions of the emulator and their describe JSON."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

__all__ = ["FieldDef", "ObjectDef", "default_objects", "describe_json", "global_entry"]


@dataclass(frozen=True)
class FieldDef:
    name: str
    type: str = "string"
    label: str = ""
    createable: bool = True
    updateable: bool = True
    nillable: bool = True
    external_id: bool = False
    unique: bool = False
    length: int = 255
    reference_to: tuple[str, ...] = ()
    picklist: tuple[str, ...] = ()

    @property
    def required(self) -> bool:
        """Required on create: createable, not nillable, and no server default."""
        return self.createable and not self.nillable and self.type != "boolean"

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label or self.name.removesuffix("__c").replace("_", " "),
            "type": self.type,
            "length": self.length if self.type in {"string", "textarea", "picklist"} else 0,
            "createable": self.createable,
            "updateable": self.updateable,
            "nillable": self.nillable,
            "externalId": self.external_id,
            "unique": self.unique,
            "custom": self.name.endswith("__c"),
            "idLookup": self.name == "Id" or self.external_id,
            "referenceTo": list(self.reference_to),
            "picklistValues": [
                {"active": True, "defaultValue": False, "label": v, "value": v}
                for v in self.picklist
            ],
        }


@dataclass(frozen=True)
class ObjectDef:
    name: str
    key_prefix: str
    label: str
    fields: tuple[FieldDef, ...]
    event: bool = False  # a platform event (``__e``): publish only, not queryable
    _index: dict[str, FieldDef] = field(
        default_factory=dict[str, FieldDef], init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        self._index.update({f.name.lower(): f for f in self.fields})

    def with_fields(self, *fields: FieldDef) -> ObjectDef:
        """A copy with ``fields`` added (a field of the same name is replaced)."""
        names = {f.name.lower() for f in fields}
        kept = tuple(f for f in self.fields if f.name.lower() not in names)
        return replace(self, fields=kept + fields)

    def field(self, name: str) -> FieldDef | None:
        return self._index.get(name.lower())

    @property
    def custom(self) -> bool:
        return self.name.endswith(("__c", "__e"))


_SYSTEM = (
    FieldDef(
        "Id", "id", "Record ID", createable=False, updateable=False, nillable=False, length=18
    ),
    FieldDef("IsDeleted", "boolean", "Deleted", createable=False, updateable=False, nillable=False),
    FieldDef("CreatedDate", "datetime", createable=False, updateable=False, nillable=False),
    FieldDef("CreatedById", "reference", createable=False, updateable=False, nillable=False),
    FieldDef("LastModifiedDate", "datetime", createable=False, updateable=False, nillable=False),
    FieldDef("SystemModstamp", "datetime", createable=False, updateable=False, nillable=False),
)
_REF = "reference"


def _obj(name: str, prefix: str, label: str, *fields: FieldDef) -> ObjectDef:
    return ObjectDef(name, prefix, label, _SYSTEM + fields)


def default_objects() -> dict[str, ObjectDef]:
    """Account, Contact, Opportunity, Order, ``Payment__c``, ``Payment_Event__e`` and
    ``Order_Event__e``."""
    objects = [
        _obj(
            "Account",
            "001",
            "Account",
            FieldDef("Name", nillable=False),
            FieldDef("AccountNumber", length=40),
            FieldDef("Industry", "picklist", picklist=("Banking", "Retail", "Technology")),
            FieldDef("Phone", "phone", length=40),
            FieldDef("BillingCity", length=40),
            FieldDef("BillingCountry", length=80),
            FieldDef("Customer_ID__c", external_id=True, unique=True, length=64),
            FieldDef("Legacy_Ref__c", external_id=True, length=64),
        ),
        _obj(
            "Contact",
            "003",
            "Contact",
            FieldDef("FirstName", length=40),
            FieldDef("LastName", nillable=False, length=80),
            FieldDef("Email", "email", length=80),
            FieldDef("AccountId", _REF, reference_to=("Account",)),
        ),
        _obj(
            "Opportunity",
            "006",
            "Opportunity",
            FieldDef("Name", nillable=False, length=120),
            FieldDef(
                "StageName", "picklist", nillable=False, picklist=("Prospecting", "Closed Won")
            ),
            FieldDef("CloseDate", "date", nillable=False),
            FieldDef("Amount", "currency"),
            FieldDef("AccountId", _REF, reference_to=("Account",)),
        ),
        _obj(
            "Order",
            "801",
            "Order",
            FieldDef("AccountId", _REF, nillable=False, reference_to=("Account",)),
            FieldDef("EffectiveDate", "date", nillable=False),
            FieldDef("Status", "picklist", nillable=False, picklist=("Draft", "Activated")),
            FieldDef("OrderNumber", createable=False, updateable=False, length=30),
            FieldDef("TotalAmount", "currency", createable=False, updateable=False),
            FieldDef("External_Order_ID__c", external_id=True, unique=True, length=64),
        ),
        _obj(
            "Payment__c",
            "a01",
            "Payment",
            FieldDef("Name", createable=False, updateable=False, length=80),
            FieldDef("Payment_ID__c", external_id=True, unique=True, nillable=False, length=64),
            FieldDef("Amount__c", "currency", nillable=False),
            FieldDef("Currency__c", length=3),
            FieldDef(
                "Status__c",
                "picklist",
                picklist=("Authorized", "Captured", "Settled", "Refunded", "Voided", "Failed"),
            ),
            FieldDef("Last4Digits__c", length=4),
            FieldDef("Transaction_ID__c", length=64),
            FieldDef("Account__c", _REF, reference_to=("Account",)),
            FieldDef("Order__c", _REF, reference_to=("Order",)),
            FieldDef("Processed_At__c", "datetime"),
        ),
        ObjectDef(
            "Payment_Event__e",
            "e00",
            "Payment Event",
            (
                FieldDef("ReplayId", createable=False, updateable=False),
                FieldDef("EventUuid", createable=False, updateable=False, length=36),
                FieldDef("CreatedDate", "datetime", createable=False, updateable=False),
                FieldDef("CreatedById", _REF, createable=False, updateable=False),
                FieldDef("Payment_ID__c", nillable=False, updateable=False, length=64),
                FieldDef("Status__c", updateable=False, length=40),
                FieldDef("Amount__c", "currency", updateable=False),
            ),
            event=True,
        ),
        ObjectDef(
            "Order_Event__e",
            "e01",
            "Order Event",
            (
                FieldDef("ReplayId", createable=False, updateable=False),
                FieldDef("EventUuid", createable=False, updateable=False, length=36),
                FieldDef("CreatedDate", "datetime", createable=False, updateable=False),
                FieldDef("CreatedById", _REF, createable=False, updateable=False),
                FieldDef("Order_ID__c", nillable=False, updateable=False, length=64),
                FieldDef("Status__c", updateable=False, length=40),
                FieldDef("Amount__c", "currency", updateable=False),
            ),
            event=True,
        ),
    ]
    return {o.name.lower(): o for o in objects}


def global_entry(obj: ObjectDef, version: str) -> dict[str, Any]:
    base = f"/services/data/v{version}/sobjects/{obj.name}"
    return {
        "name": obj.name,
        "label": obj.label,
        "labelPlural": obj.label + "s",
        "keyPrefix": obj.key_prefix,
        "custom": obj.custom,
        "createable": True,
        "updateable": not obj.event,
        "deletable": not obj.event,
        "queryable": not obj.event,
        "retrieveable": not obj.event,
        "searchable": not obj.event,
        "urls": {
            "sobject": base,
            "describe": f"{base}/describe",
            "rowTemplate": f"{base}/{{ID}}",
        },
    }


def describe_json(obj: ObjectDef, version: str) -> dict[str, Any]:
    return {**global_entry(obj, version), "fields": [f.describe() for f in obj.fields]}
