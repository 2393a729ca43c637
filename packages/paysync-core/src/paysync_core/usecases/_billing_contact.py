"""Use case 5: which Contact of an Account is its billing contact (the e-mail synced).

An Account can have several Contacts; the one whose e-mail reaches the PayTrace vault profile
(and receives PayTrace's e-mail back) must be the same on every read, whatever the order
Salesforce returns rows in. The rule:

1. with ``flag_field`` set (a checkbox such as ``Billing_Contact__c``): the flagged Contacts
   come first;
2. then the oldest (``CreatedDate``), ties broken by ``Id``: by default the billing contact
   is the Account's first Contact, as Salesforce's "primary" contact usually is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["BillingContactRule"]

_API_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,79}$")
#: Contacts read per Account to choose from (an Account with more is unusual; the rule then
#: chooses among the oldest of them, still deterministically).
_READ_LIMIT = 200


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

    def soql(self) -> str:
        """The Contacts of one Account (one ``{}``: its Id), oldest first."""
        names = ["Id", "Email", "CreatedDate", *([self.flag_field] if self.flag_field else [])]
        return (
            f"SELECT {', '.join(names)} FROM Contact WHERE AccountId = {{}} "  # noqa: S608
            f"ORDER BY CreatedDate LIMIT {_READ_LIMIT}"
        )

    def choose(self, contacts: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
        """The billing contact among ``contacts`` (``None``: the Account has none)."""
        if not contacts:
            return None

        def key(row: Mapping[str, Any]) -> tuple[bool, str, str]:
            flagged = bool(self.flag_field and row.get(self.flag_field) is True)
            return (not flagged, str(row.get("CreatedDate") or ""), str(row.get("Id") or ""))

        return min(contacts, key=key)

    def reason(self) -> str:
        if self.flag_field:
            flag = self.flag_field
            return f"billing contact: the oldest Contact with {flag} set, else the oldest"
        return "billing contact: the Account's oldest Contact (CreatedDate, then Id)"
