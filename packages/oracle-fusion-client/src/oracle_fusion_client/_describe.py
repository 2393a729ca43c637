"""Resource metadata: ``GET /fscmRestApi/resources/<version>/<resource>/describe``.

ADF REST answers ``{"Resources": {"<resource>": {"attributes": [...], "collection": {...},
"item": {...}, "children": {"<child>": {...}}}}}``. Each attribute carries ``name``, ``type``
(``string``, ``number``, ``integer``, ``date``, ``datetime``, ``boolean``), ``updatable``,
``mandatory``, ``queryable`` and, where they apply, ``maxLength``, ``precision`` and ``scale``.
Unknown keys are kept (``extra="allow"``): pods add annotations and flags over releases.

Whether an attribute may be *sent on create* is not a documented flag of its own: ADF marks
create-only attributes with ``updatable: false`` and, on some releases, ``allowChanges``
(``"always"`` / ``"create"``) **[inferred]**; :attr:`ResourceAttribute.writable_on_create`
accepts either signal so a real pod's create-only keys are not reported as read-only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, cast

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ._errors import FusionInputError
from ._http import FusionHTTP

__all__ = ["DESCRIBE_TYPE", "ResourceAttribute", "ResourceDescribe", "parse_describe"]

#: media type of a describe answer
DESCRIBE_TYPE = "application/vnd.oracle.adf.resource+json"
_RESOURCE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,127}$")
_CREATE_CHANGES = frozenset({"always", "create", "while_new"})


class ResourceAttribute(BaseModel):
    """One attribute of a resource's describe."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, frozen=True)

    name: str
    type: str = "string"
    title: str = ""
    updatable: bool = False
    mandatory: bool = False
    queryable: bool = True
    max_length: int | None = Field(default=None, alias="maxLength")
    precision: int | None = None
    scale: int | None = None
    allow_changes: str | None = Field(default=None, alias="allowChanges")

    @property
    def writable_on_create(self) -> bool:
        """May a POST set it (see the module docstring for the ``allowChanges`` inference)."""
        return self.updatable or (self.allow_changes or "").lower() in _CREATE_CHANGES


class ResourceDescribe(BaseModel):
    """A resource's (or child resource's) attributes and children."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, frozen=True)

    name: str
    title: str = ""
    attributes: tuple[ResourceAttribute, ...] = ()
    children: dict[str, ResourceDescribe] = Field(default_factory=dict[str, "ResourceDescribe"])

    def attribute(self, name: str) -> ResourceAttribute | None:
        """The attribute ``name`` (ADF attribute names are case-sensitive)."""
        return next((a for a in self.attributes if a.name == name), None)

    def child(self, name: str) -> ResourceDescribe | None:
        return self.children.get(name)


def _describe_of(name: str, raw: Mapping[str, Any]) -> ResourceDescribe:
    children_raw = raw.get("children")
    children: dict[str, ResourceDescribe] = {}
    if isinstance(children_raw, Mapping):
        for child, body in cast(Mapping[str, Any], children_raw).items():
            if isinstance(body, Mapping):
                children[child] = _describe_of(child, cast(Mapping[str, Any], body))
    extra = {k: v for k, v in raw.items() if k not in {"attributes", "children", "name"}}
    return ResourceDescribe.model_validate(
        {"name": name, "attributes": raw.get("attributes") or [], "children": children, **extra}
    )


def parse_describe(data: Mapping[str, Any], resource: str | None = None) -> ResourceDescribe:
    """The describe of ``resource`` (or of the only resource) in a ``/describe`` answer.

    Raises :class:`FusionInputError` naming what is wrong when the JSON is not a describe.
    """
    resources = data.get("Resources")
    if not isinstance(resources, Mapping) or not resources:
        raise FusionInputError("describe: the answer has no 'Resources' object")
    found = cast(Mapping[str, Any], resources)
    if resource is None:
        if len(found) != 1:
            names = ", ".join(sorted(found))
            raise FusionInputError(f"describe: several resources ({names}); name one")
        resource = next(iter(found))
    body = found.get(resource)
    if not isinstance(body, Mapping):
        raise FusionInputError(f"describe: no resource {resource!r} in the answer")
    try:
        return _describe_of(resource, cast(Mapping[str, Any], body))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise FusionInputError(f"describe of {resource}: {where}: {first['msg']}") from None


def describe_resource(http: FusionHTTP, resource: str) -> ResourceDescribe:
    """``GET <resource>/describe``, parsed."""
    if not _RESOURCE_NAME.match(resource):
        raise FusionInputError(f"resource: {resource!r} is not a REST resource name")
    item = http.json("GET", f"{resource}/describe")
    return parse_describe(item.data, resource)
