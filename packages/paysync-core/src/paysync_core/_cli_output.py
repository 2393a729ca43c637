"""JSON output of the ``paysync`` verbs, and their JSON error object under ``--json``.

A verb wrapped in :func:`json_errors` that fails before it printed its result writes one
JSON object on stdout; the human-readable message still goes to stderr and the exit code
is the verb's usual one::

    {"ok": false, "error": {"kind": "secret", "message": "...", "key": "paytrace.password"}}

``kind`` is one of :data:`ERROR_KINDS`; ``key`` is the configuration key (or option) the
problem is about, ``null`` when there is none; an invalid configuration file also lists
every problem under ``error.issues`` (``key``, ``value``, ``expected``; the values of
secret keys are ``<hidden>``). The message is the text printed on stderr: it names keys and
secret references, never a secret value.

This module imports nothing from :mod:`paysync_core.cli`, so the reconcile and anomaly
commands (mounted by that package) can use it too.
"""

from __future__ import annotations

import functools
import json
import re
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, TypeVar

import click
import typer
from rich.console import Console

from paysync_core._errors import (
    ConfigurationError,
    LedgerError,
    PaysyncError,
    UnknownFlowError,
)
from paysync_core.config import ConfigCheckError
from paysync_core.config._secrets import SecretResolutionError

__all__ = [
    "ERROR_KINDS",
    "CommandFailed",
    "classify",
    "dump_json",
    "err_console",
    "error_json",
    "json_errors",
    "write_line",
]

err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def _json_default(value: object) -> object:
    # ISO 8601 with "T" like every other timestamp paysync prints (str() would use a space)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


def dump_json(value: object, *, indent: int | None = None) -> str:
    return json.dumps(value, default=_json_default, sort_keys=True, indent=indent)


#: ``error.kind`` values: the configuration file (missing, unreadable, invalid), a secret
#: reference that does not resolve, a system that cannot be reached, the ledger, an id or
#: name that does not exist, an argument or input file, an audit chain that does not verify
#: (``audit verify``), anything else.
ERROR_KINDS = (
    "config",
    "secret",
    "connection",
    "ledger",
    "not_found",
    "input",
    "audit",
    "error",
)

#: A dotted configuration key in a message (``paytrace.password: ...``, ``fusion.issuer is
#: required``); the lookbehind skips paths, the suffix check skips file names.
_KEY = re.compile(r"(?<![\w./\\-])([a-z_][a-z0-9_]*(?:\.[a-z0-9_]+)+)(?=:| is required)")
_FILE_SUFFIXES = frozenset({"toml", "json", "csv", "parquet", "db", "html", "md", "txt"})
#: Client packages each have their own tree; their transport errors share these names.
_CONNECTION_NAMES = ("ConnectionError", "ConnectError", "TimeoutError", "Timeout")
#: The ledger's database drivers: their errors (a SQLite file that cannot be opened) are
#: about the ledger even when raised before paysync could wrap them.
_LEDGER_DRIVERS = frozenset({"sqlite3", "psycopg", "psycopg_pool"})


class CommandFailed(typer.Exit):
    """A verb's failure: the exit code plus what ``--json`` reports (see the module doc)."""

    def __init__(
        self,
        code: int,
        *,
        kind: str,
        message: str,
        key: str | None = None,
        issues: Sequence[dict[str, str]] = (),
    ) -> None:
        super().__init__(code)
        self.kind = kind
        self.message = message
        self.key = key
        self.issues = tuple(issues)

    def as_json(self) -> dict[str, object]:
        error: dict[str, object] = {"kind": self.kind, "message": self.message, "key": self.key}
        if self.issues:
            error["issues"] = list(self.issues)
        return {"ok": False, "error": error}


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and what it was raised from; ``raise ... from None`` still keeps
    ``__context__``, so a wrapped :class:`SecretResolutionError` is found."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not s for s in seen):
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _key_in(message: str) -> str | None:
    for match in _KEY.finditer(message):
        key = match.group(1)
        if key.rsplit(".", 1)[-1] not in _FILE_SUFFIXES:
            return key
    return None


def classify(exc: BaseException | None, message: str) -> tuple[str, str | None]:
    """``(kind, key)`` of a failure: from the exception (and its chain) when there is one,
    else an argument the verb validated itself (``input``)."""
    if exc is None:
        return "input", _key_in(message)
    chain = _chain(exc)
    for item in chain:
        if isinstance(item, ConfigCheckError):
            return "config", item.issues[0].key if item.issues else None
    if any(isinstance(item, SecretResolutionError) for item in chain):
        return "secret", _key_in(message)
    if any(
        any(cls.__name__.endswith(_CONNECTION_NAMES) for cls in type(item).__mro__)
        for item in chain
    ):
        return "connection", _key_in(message)
    if any(isinstance(item, UnknownFlowError) for item in chain):
        return "not_found", None
    if any(isinstance(item, ConfigurationError) for item in chain):
        return "config", _key_in(message)
    if any(
        isinstance(item, LedgerError) or type(item).__module__.split(".")[0] in _LEDGER_DRIVERS
        for item in chain
    ):
        return "ledger", None
    if isinstance(exc, (OSError, ValueError, LookupError, TypeError)):
        return "input", _key_in(message)
    return "error", _key_in(message)


def _issues(exc: BaseException | None) -> list[dict[str, str]]:
    for item in _chain(exc) if exc is not None else []:
        if isinstance(item, ConfigCheckError):
            return [vars(issue) for issue in item.issues]  # values of secret keys: <hidden>
    return []


def error_json(
    message: str,
    code: int = 1,
    *,
    kind: str | None = None,
    key: str | None = None,
    exc: BaseException | None = None,
) -> CommandFailed:
    """The failure to raise for ``message`` (already printed on stderr), classified from
    ``exc``; ``kind`` overrides the classification, ``key`` (an option such as ``--from``)
    is used when the message names no configuration key."""
    found_kind, found_key = classify(exc, message)
    return CommandFailed(
        code,
        kind=kind or found_kind,
        message=message,
        key=found_key or key,
        issues=_issues(exc),
    )


#: Lines :func:`write_line` printed in this process: :func:`json_errors` writes the error
#: object only when the verb printed nothing yet (a result, or its own error shape).
_written = [0]


def write_line(text: str) -> None:
    """Plain stdout line (JSON lines must not pass through rich's wrapping)."""
    _written[0] += 1
    sys.stdout.write(text + "\n")


def _json_mode(kwargs: dict[str, Any]) -> bool:
    return kwargs.get("as_json") is True or kwargs.get("report_format") == "json"


F = TypeVar("F", bound=Callable[..., Any])


def json_errors(command: F) -> F:
    """Wrap a verb: with ``--json`` (or ``--format json``) a failure prints the JSON error.

    :class:`CommandFailed` keeps its exit code; any other :class:`PaysyncError` or client
    error escaping the verb is printed on stderr and ends it with exit 1 (instead of a
    traceback on a JSON consumer's stdout). Without ``--json`` nothing changes.
    """

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not _json_mode(kwargs):
            return command(*args, **kwargs)
        before = _written[0]
        try:
            return command(*args, **kwargs)
        except CommandFailed as exc:
            if _written[0] == before:
                write_line(dump_json(exc.as_json()))
            raise
        except (typer.Exit, typer.Abort, click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:  # every failure must still be JSON
            message = " ".join(str(exc).split())
            if not isinstance(exc, PaysyncError):  # a client's error: name its type
                message = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
            err_console.print(f"paysync: {message}", markup=False)
            failure = error_json(message, 1, exc=exc)
            if _written[0] == before:
                write_line(dump_json(failure.as_json()))
            raise failure from None

    return wrapper  # type: ignore[return-value]
