"""Wire shapes: items with links, collections with paging, error bodies, JSON encoding."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

from ._qparse import QueryError, compile_q, parse_finder
from ._state import RESOURCES, ApiError, State

__all__ = ["collection", "collection_page", "dumps", "error_body", "render_item"]

DEFAULT_LIMIT = 25
MAX_LIMIT = 500
COLLECTION_TYPE = "application/vnd.oracle.adf.resourcecollection+json"
ITEM_TYPE = "application/vnd.oracle.adf.resourceitem+json"
ERROR_TYPE = "application/vnd.oracle.adf.error+json"

#: finder name -> attributes its variables filter on (``PrimaryKey`` exists everywhere)
FINDERS: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "salesOrdersForOrderHub": {
        "findBySourceOrderNumberAndSystem": ("SourceTransactionNumber", "SourceTransactionSystem"),
    },
    "standardReceipts": {"ReceiptsFinder": ("ReceiptNumber", "BusinessUnit")},
    "receivablesInvoices": {"invoiceSearch": ("TransactionNumber", "BusinessUnit")},
    "receivablesCustomerAccountSiteActivities": {
        "CustomerAccountSiteActivitiesFinder": ("AccountNumber",)
    },
}


def _default(value: object) -> object:
    if isinstance(value, Decimal):
        return (
            int(value)
            if value == value.to_integral_value() and "." not in str(value)
            else float(value)
        )
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot encode {type(value).__name__}")


def dumps(payload: object) -> bytes:
    """JSON as Fusion writes it: amounts are numbers."""
    return json.dumps(payload, default=_default).encode()


_TITLES: Mapping[int, str] = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    409: "Conflict",
    412: "Precondition Failed",
    415: "Unsupported Media Type",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def error_body(error: ApiError, framework_version: int) -> tuple[bytes, str]:
    """The JSON error schema for framework >= 4, else Oracle's plain-text message."""
    if framework_version < 4:
        text = f"{error.detail}"
        return text.encode(), "text/plain; charset=UTF-8"
    # The reference schema (§2 Errors) is ``type, title, status, detail, o:errorCode,
    # o:errorPath, o:errorDetails[…]``: the first problem is repeated at the top level so a
    # client reading either place finds the Oracle message and code.
    body: dict[str, Any] = {
        "type": "http://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html",
        "title": _TITLES.get(error.status, "Error"),
        "status": str(error.status),
        "detail": error.detail,
        "o:errorCode": error.code,
        "o:errorPath": error.path,
        "o:errorDetails": [
            {"detail": error.detail, "o:errorCode": error.code, "o:errorPath": error.path}
        ],
    }
    return dumps(body), ERROR_TYPE


def _links(base: str, resource: str, key: str, etag: str) -> list[dict[str, Any]]:
    href = f"{base}/{resource}/{key}"
    links: list[dict[str, Any]] = [
        {
            "rel": "self",
            "href": href,
            "name": resource,
            "kind": "item",
            "properties": {"changeIndicator": etag.strip('"')},
        },
        {"rel": "canonical", "href": href, "name": resource, "kind": "item"},
    ]
    links += [
        {"rel": "child", "href": f"{href}/child/{child}", "name": child, "kind": "collection"}
        for child in RESOURCES[resource][1]
    ]
    return links


def render_item(
    state: State,
    resource: str,
    key: str,
    params: Mapping[str, str],
    base: str,
    *,
    children: bool = False,
    framework: int = 1,
) -> dict[str, Any]:
    """One item: children only when expanded (or just written), ``fields``, links.

    ``fields=A,B;Child:C,D`` selects parent attributes and, per child, the child's; with
    ``fields`` present ``expand`` is ignored (reference §2: "fields+expand → fields wins").
    From framework version 3 an expanded child is a collection object with ``hasMore``.
    """
    record = state.get(resource, key)
    child_names = RESOURCES[resource][1]
    expand = {e.strip() for e in params.get("expand", "").split(",") if e.strip()}
    out: dict[str, Any] = {}
    wanted, child_fields = _parse_fields(params.get("fields", ""))
    only_data = params.get("onlyData", "false").lower() == "true"
    for name, value in record.items():
        if name in child_names:
            if children:
                out[name] = value
                continue
            rows = _child_rows(name, value, params, expand, child_fields)
            if rows is None:
                continue
            if framework >= 3:
                href = f"{base}/{resource}/{key}/child/{name}"
                out[name] = _child_page(rows, name, href, only_data=only_data)
            else:
                out[name] = rows
            continue
        if name == "applications":
            continue
        if wanted and name not in wanted:
            continue
        out[name] = value
    if not only_data:
        etag = state.etag(resource, key)
        out["links"] = _links(base, resource, key, etag)
        if framework >= 6:  # reference §2: from version 6 the ETag is also in the body
            out["@context"] = {"key": key, "headers": {"ETag": etag}}
    return out


def _child_rows(
    name: str,
    value: object,
    params: Mapping[str, str],
    expand: set[str],
    child_fields: Mapping[str, set[str]],
) -> list[Any] | None:
    """The rows of child ``name`` to render, or None when it is not asked for."""
    rows = cast(list[Any], value or [])
    if params.get("fields"):
        if name not in child_fields:
            return None
        return [_select(r, child_fields[name]) for r in rows]
    if "all" in expand or name in expand:
        return rows
    return None


def _parse_fields(spec: str) -> tuple[set[str], dict[str, set[str]]]:
    """``A,B;Child:C,D`` -> ({A, B}, {Child: {C, D}}); an empty set means every attribute."""
    head, *rest = spec.split(";")
    parent = {f.strip() for f in head.split(",") if f.strip()}
    per_child: dict[str, set[str]] = {}
    for part in rest:
        child, _, attrs = part.partition(":")
        if child.strip():
            per_child[child.strip()] = {a.strip() for a in attrs.split(",") if a.strip()}
    return parent, per_child


def _select(row: object, wanted: set[str]) -> object:
    if not wanted or not isinstance(row, dict):
        return row
    return {k: v for k, v in cast(dict[str, Any], row).items() if k in wanted}


def _child_page(rows: list[Any], name: str, href: str, *, only_data: bool) -> dict[str, Any]:
    page: dict[str, Any] = {
        "items": rows,
        "count": len(rows),
        "hasMore": False,
        "limit": DEFAULT_LIMIT,
        "offset": 0,
    }
    if not only_data:
        page["links"] = [{"rel": "self", "href": href, "name": name, "kind": "collection"}]
    return page


def _order_key(value: object) -> tuple[int, object]:
    if value is None:
        return (0, "")
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return (1, Decimal(str(value)))
    return (2, str(value))


def collection(
    state: State, resource: str, params: Mapping[str, str], base: str, *, framework: int = 1
) -> dict[str, Any]:
    """A collection GET of a ``fscmRestApi`` resource (see :func:`collection_page`)."""
    finders = {"PrimaryKey": (RESOURCES[resource][0],), **FINDERS.get(resource, {})}
    return collection_page(
        list(state.records[resource].items()),
        resource,
        params,
        base,
        finders=finders,
        render=lambda key, _record: render_item(
            state, resource, key, params, base, framework=framework
        ),
    )


def collection_page(
    rows: Sequence[tuple[str, Mapping[str, Any]]],
    resource: str,
    params: Mapping[str, str],
    base: str,
    *,
    finders: Mapping[str, tuple[str, ...]],
    render: Callable[[str, Mapping[str, Any]], dict[str, Any]],
) -> dict[str, Any]:
    """A collection GET over ``rows`` (key, record): finder (one of ``finders``, name ->
    the attributes its variables filter on), q, orderBy, offset/limit, totalResults, links;
    each item of the page as ``render(key, record)`` gives it. Every ADF REST collection
    (``fscmRestApi``, ``crmRestApi``) pages alike."""
    rows = list(rows)
    try:
        if params.get("finder"):
            name, variables = parse_finder(params["finder"])
            if name not in finders:
                raise ApiError(400, f"The finder {name} isn't defined for {resource}.")
            for var, value in variables.items():
                if var not in finders[name]:
                    raise ApiError(400, f"The finder {name} has no variable {var}.")
                rows = [(k, r) for k, r in rows if str(r.get(var)) == value]
        if params.get("q"):
            predicate = compile_q(params["q"])
            rows = [(k, r) for k, r in rows if predicate(r)]
    except QueryError as exc:
        raise ApiError(
            400, f"The query parameter was provided but it could not be processed: {exc}"
        ) from None
    for spec in reversed([s for s in params.get("orderBy", "").split(",") if s.strip()]):
        attr, _, direction = spec.partition(":")
        rows.sort(key=lambda kr: _order_key(kr[1].get(attr.strip())), reverse=direction == "desc")
    try:
        limit = min(int(params.get("limit", DEFAULT_LIMIT)), MAX_LIMIT)
        offset = int(params.get("offset", 0))
    except ValueError:
        raise ApiError(400, "limit and offset must be integers.") from None
    if limit < 1 or offset < 0:
        raise ApiError(400, "limit must be positive and offset not negative.")
    page = rows[offset : offset + limit]
    items = [render(k, r) for k, r in page]
    body: dict[str, Any] = {
        "items": items,
        "count": len(items),
        "hasMore": offset + len(items) < len(rows),
        "limit": limit,
        "offset": offset,
    }
    if params.get("totalResults", "false").lower() == "true":
        body["totalResults"] = len(rows)
    if params.get("onlyData", "false").lower() != "true":
        body["links"] = [
            {"rel": "self", "href": f"{base}/{resource}", "name": resource, "kind": "collection"}
        ]
    return body


def child_collection(
    state: State,
    resource: str,
    key: str,
    child: str,
    base: str,
    *,
    params: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """``GET …/{key}/child/{child}``: pages, filters and orders like any collection."""
    record = state.get(resource, key)
    if child not in RESOURCES[resource][1]:
        raise ApiError(404, f"The child {child} of {resource} doesn't exist.")
    items = cast(list[dict[str, Any]], record.get(child) or [])
    query = dict(params or {})
    wanted, _ = _parse_fields(query.get("fields", ""))
    page = collection_page(
        [(str(i), row) for i, row in enumerate(items)],
        f"{resource}/{key}/child/{child}",
        query,
        base,
        finders={},
        render=lambda _key, row: cast(dict[str, Any], _select(dict(row), wanted)),
    )
    if "links" in page:
        page["links"][0]["name"] = child
    return page
