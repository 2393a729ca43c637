"""SOQL over the emulator's org: REST query/queryMore paging and Bulk API 2.0 query rows."""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Callable, Mapping
from typing import Any, cast

from . import _soql
from ._schema import ObjectDef
from ._store import ApiFailure, Org, error, render

__all__ = ["QueryAnswer", "QueryEngine"]

QueryAnswer = tuple[int, dict[str, Any]]


_WSDL_HINT = "Please reference your WSDL or the describe call for the appropriate names."


class _UnknownColumn(Exception):  # noqa: N818 - internal signal, not an API error
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _located(soql: str, token: str, message: str) -> str:
    """Salesforce's query error text: the query, a caret under ``token``, its row and column,
    then the message ("\\nSELECT Nope FROM Account\\n       ^\\nERROR at Row:1:Column:8\\n...")."""
    found = re.search(rf"(?<![\w.]){re.escape(token)}(?![\w])", soql, re.IGNORECASE)
    if found is None:
        return message
    start = found.start()
    line_start = soql.rfind("\n", 0, start) + 1
    row = soql.count("\n", 0, start) + 1
    column = start - line_start + 1
    line = soql[line_start:].split("\n", 1)[0]
    return f"\n{line}\n{' ' * (column - 1)}^\nERROR at Row:{row}:Column:{column}\n{message}"


class QueryEngine:
    """Runs the SOQL subset and keeps query cursors for ``nextRecordsUrl``."""

    def __init__(self, org: Org) -> None:
        self.org = org
        self._cursors: dict[str, tuple[list[dict[str, Any]], int]] = {}
        self._cursor_ids = itertools.count(1)
        self._lock = threading.Lock()

    # -- query ------------------------------------------------------------------------------

    def query(
        self,
        text: str,
        version: str,
        headers: Mapping[str, str],
        *,
        page: bool = True,
        include_deleted: bool = False,
    ) -> QueryAnswer:
        """``include_deleted`` (``queryAll``) also reads the recycle bin (``IsDeleted`` true)."""
        try:
            query = _soql.parse(text)
        except _soql.SoqlError as exc:
            raise ApiFailure(400, [error("MALFORMED_QUERY", str(exc))]) from None
        obj = self.org.objects.get(query.sobject.lower())
        if obj is None or obj.event:
            msg = (
                f"sObject type '{query.sobject}' is not supported. If you are attempting to use "
                "a custom object, be sure to append the '__c' after the entity name. "
                f"{_WSDL_HINT}"
            )
            raise ApiFailure(400, [error("INVALID_TYPE", _located(text, query.sobject, msg))])
        try:
            rows = self._select(obj, query, include_deleted=include_deleted)
        except _UnknownColumn as unknown:
            msg = (
                f"No such column '{unknown.name}' on entity '{obj.name}'. If you are attempting "
                "to use a custom field, be sure to append the '__c' after the custom field "
                f"name. {_WSDL_HINT}"
            )
            located = _located(text, unknown.name, msg)
            raise ApiFailure(400, [error("INVALID_FIELD", located)]) from None
        if query.count:
            return (200, {"totalSize": len(rows), "done": True, "records": []})
        rendered = [render(obj, r, version, list(query.fields)) for r in rows]
        if not page:
            return (200, {"records": rendered})
        return self._page(rendered, 0, self._batch_size(headers), version, None)

    def bulk_select(
        self, text: str, version: str, include_deleted: bool = False
    ) -> tuple[list[dict[str, Any]], list[str]]:
        """Rows (without ``attributes``) and columns of a Bulk API 2.0 query job."""
        answer = self.query(
            text,
            version,
            {"Sforce-Query-Options": "batchSize=2000"},
            page=False,
            include_deleted=include_deleted,
        )
        rows = cast("list[dict[str, Any]]", answer[1]["records"])
        columns = [k for k in (rows[0] if rows else {}) if k != "attributes"]
        if not rows:
            columns = list(_soql.parse(text).fields)
        return [{k: v for k, v in r.items() if k != "attributes"} for r in rows], columns

    def _select(
        self, obj: ObjectDef, query: _soql.Query, *, include_deleted: bool = False
    ) -> list[dict[str, Any]]:
        canonical = {f.name.lower(): f.name for f in obj.fields}

        def resolve(name: str) -> str:
            if name.lower() not in canonical:
                raise _UnknownColumn(name)
            return canonical[name.lower()]

        for name in query.fields:
            resolve(name)
        where = self._resolve(query.where, resolve)
        source = list(self.org.table(obj).values())
        if include_deleted:
            source.extend(self.org.recycle_bin.get(obj.name, {}).values())
        rows = [r for r in source if _soql.evaluate(where, r)]
        for name, descending in reversed(query.order):
            key = resolve(name)
            rows.sort(key=lambda r: _soql.sort_key(r.get(key)), reverse=descending)
        rows = rows[query.offset :]
        return rows if query.limit is None else rows[: query.limit]

    def _resolve(
        self, cond: _soql.Condition | None, resolve: Callable[[str], str]
    ) -> _soql.Condition | None:
        if cond is None:
            return None
        if isinstance(cond, _soql.Comparison):
            return _soql.Comparison(resolve(cond.field), cond.op, cond.value)
        return _soql.Logical(cond.op, tuple(self._resolve(c, resolve) or c for c in cond.items))

    @staticmethod
    def _batch_size(headers: Mapping[str, str]) -> int:
        options = headers.get("Sforce-Query-Options", "")
        for part in options.split(","):
            key, _, value = part.strip().partition("=")
            if key.lower() == "batchsize" and value.strip().isdigit():
                return min(max(int(value), 200), 2000)
        return 2000

    def _page(
        self, rows: list[dict[str, Any]], start: int, size: int, version: str, locator: str | None
    ) -> QueryAnswer:
        end = start + size
        body: dict[str, Any] = {"totalSize": len(rows), "done": end >= len(rows)}
        if end < len(rows):
            with self._lock:
                if locator is None:
                    locator = f"01g{next(self._cursor_ids):012d}AAA"
                self._cursors[locator] = (rows, size)
            body["nextRecordsUrl"] = f"/services/data/v{version}/query/{locator}-{end}"
        body["records"] = rows[start:end]
        return (200, body)

    def more(self, token: str, version: str) -> QueryAnswer:
        locator, _, offset = token.rpartition("-")
        with self._lock:
            cursor = self._cursors.get(locator)
        if cursor is None or not offset.isdigit():
            msg = "invalid query locator"
            raise ApiFailure(400, [error("INVALID_QUERY_LOCATOR", msg)])
        rows, size = cursor
        return self._page(rows, int(offset), size, version, locator)
