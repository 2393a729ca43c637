"""Use case 5: which Contact of an Account is its billing contact (the e-mail synced).

An Account can have several Contacts; the one whose e-mail reaches the PayTrace vault profile
(and receives PayTrace's e-mail back) must be the same on every read, whatever the order
Salesforce returns rows in. The rule:

1. with ``flag_field`` set (a checkbox such as ``Billing_Contact__c``): the flagged Contacts
   come first;
2. with ``role`` set (e.g. ``"Billing Contact"``): the Contacts linked to the Account by an
   ``AccountContactRole`` with that ``Role`` come first, the primary one (``IsPrimary``) before
   the others (a role may name a Contact of another Account: contact roles are many-to-many);
3. then the oldest (``CreatedDate``), ties broken by ``Id``: by default the billing contact
   is the Account's first Contact, as Salesforce's "primary" contact usually is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["BillingContactRule"]

_API_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,79}$")
#: Contacts read per Account to choose from (an Account with more is unusual; the rule then
#: chooses among the oldest of them, still deterministically).
_READ_LIMIT = 200
#: A picklist value: printable, no quotes needed (it is quoted by ``format_soql`` anyway).
_ROLE = re.compile(r"^[^\x00-\x1f]{1,255}$")


class BillingContactRule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    flag_field: str | None = Field(default=None)
    """Contact checkbox marking the billing contact (e.g. ``Billing_Contact__c``); the oldest
    flagged Contact wins. None: the Account's oldest Contact (``CreatedDate``, then ``Id``)."""

    @field_validator("flag_field")
    @classmethod
    def _api_name(cls, value: str | None) -> str | None:
        if value is not None and not _API_NAME.match(value):
            raise ValueError(f"flag_field: {value!r} is not a Salesforce field API name")
        return value

    role: str | None = Field(default=None)
    """``AccountContactRole.Role`` marking the billing contact (e.g. ``Billing Contact``): the
    Contacts with that role on the Account win, the primary one (``IsPrimary``) first, then
    the oldest. None: no role is read."""

    @field_validator("role")
    @classmethod
    def _role_value(cls, value: str | None) -> str | None:
        if value is not None and (not value.strip() or not _ROLE.match(value)):
            raise ValueError(f"role: {value!r} is not a Role picklist value")
        return value

    @model_validator(mode="after")
    def _one_marker(self) -> BillingContactRule:
        if self.flag_field is not None and self.role is not None:
            raise ValueError("role: set either flag_field or role, not both")
        return self

    def role_soql(self) -> str:
        """The Contacts holding :attr:`role` on one Account (``{}``: its Id, ``{}``: the role)."""
        return (
            "SELECT ContactId, IsPrimary FROM AccountContactRole "  # noqa: S608
            f"WHERE AccountId = {{}} AND Role = {{}} LIMIT {_READ_LIMIT}"
        )

    def contacts_soql(self) -> str:
        """Contacts by Id (``{}``: a list of ids), for role holders of other Accounts."""
        names = ["Id", "Email", "CreatedDate"]
        return f"SELECT {', '.join(names)} FROM Contact WHERE Id IN {{}}"  # noqa: S608

    def soql(self) -> str:
        """The Contacts of one Account (one ``{}``: its Id), oldest first."""
        names = ["Id", "Email", "CreatedDate", *([self.flag_field] if self.flag_field else [])]
        return (
            f"SELECT {', '.join(names)} FROM Contact WHERE AccountId = {{}} "  # noqa: S608
            f"ORDER BY CreatedDate LIMIT {_READ_LIMIT}"
        )

    def choose(
        self,
        contacts: Sequence[Mapping[str, Any]],
        roles: Sequence[Mapping[str, Any]] = (),
    ) -> Mapping[str, Any] | None:
        """The billing contact among ``contacts`` (``None``: the Account has none); ``roles``:
        the Account's ``AccountContactRole`` rows with :attr:`role` (``ContactId``,
        ``IsPrimary``), their Contacts among ``contacts``."""
        if not contacts:
            return None
        # 0: primary role holder, 1: other role holder, 2: no role
        rank: dict[str, int] = {}
        for row in roles:
            contact_id = str(row.get("ContactId") or "")
            level = 0 if row.get("IsPrimary") is True else 1
            rank[contact_id] = min(level, rank.get(contact_id, 2))

        def key(row: Mapping[str, Any]) -> tuple[bool, int, str, str]:
            flagged = bool(self.flag_field and row.get(self.flag_field) is True)
            held = rank.get(str(row.get("Id") or ""), 2)
            created = str(row.get("CreatedDate") or "")
            return (not flagged, held, created, str(row.get("Id") or ""))

        return min(contacts, key=key)

    def reason(self) -> str:
        if self.role:
            return (
                f"billing contact: the Contact with role {self.role!r} (primary first, then "
                "the oldest), else the oldest"
            )
        if self.flag_field:
            flag = self.flag_field
            return f"billing contact: the oldest Contact with {flag} set, else the oldest"
        return "billing contact: the Account's oldest Contact (CreatedDate, then Id)"
