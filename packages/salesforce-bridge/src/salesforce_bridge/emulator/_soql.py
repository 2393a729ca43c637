"""A SOQL subset for the emulator.

``SELECT f1, f2 | COUNT() FROM Obj [WHERE ...] [ORDER BY ...] [LIMIT n] [OFFSET n]``:

``WHERE`` supports ``= != <> < <= > >= LIKE IN NOT IN``, ``AND``/``OR``/``NOT`` and parentheses;
values are quoted strings (with SOQL escapes), numbers, ``true``/``false``/``null`` and ISO
dates/datetimes. String comparison is case-insensitive, as in Salesforce.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = [
    "Comparison",
    "Logical",
    "Query",
    "Quoted",
    "SoqlError",
    "evaluate",
    "parse",
    "sort_key",
]


class SoqlError(ValueError):
    """The query text is not in the supported subset (answered as ``MALFORMED_QUERY``)."""


_TOKEN = re.compile(
    r"""\s*(?:
      (?P<str>'(?:[^'\\]|\\.)*')
    | (?P<date>\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2}))?)
    | (?P<num>-?\d+(?:\.\d+)?)
    | (?P<op>!=|<>|<=|>=|=|<|>)
    | (?P<punct>[(),])
    | (?P<ident>[A-Za-z_][\w.]*)
    )""",
    re.VERBOSE,
)
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f"}
_KEYWORDS = {"select", "from", "where", "and", "or", "not", "in", "like", "order", "by", "limit"}


@dataclass(frozen=True)
class Comparison:
    field: str
    op: str  # = != < <= > >= like in notin
    value: Any


@dataclass(frozen=True)
class Logical:
    op: str  # and | or | not
    items: tuple[Comparison | Logical, ...]


Condition = Comparison | Logical


@dataclass(frozen=True)
class Query:
    sobject: str
    fields: tuple[str, ...]  # empty for COUNT()
    count: bool
    where: Condition | None
    order: tuple[tuple[str, bool], ...]  # (field, descending)
    limit: int | None
    offset: int


class Quoted(str):
    """A string literal that also remembers its ``LIKE`` pattern (``\\%``/``\\_`` are literal)."""

    __slots__ = ("like",)
    like: re.Pattern[str]


def _unquote(text: str) -> Quoted:
    body = text[1:-1]
    value = Quoted(re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), body))
    parts: list[str] = []
    for match in re.finditer(r"\\(.)|(%)|(_)|(.)", body, re.DOTALL):
        escaped, percent, underscore, plain = match.groups()
        if percent:
            parts.append(".*")
        elif underscore:
            parts.append(".")
        else:
            char = _ESCAPES.get(escaped, escaped) if escaped is not None else plain
            parts.append(re.escape(char.casefold()))
    value.like = re.compile("".join(parts), re.DOTALL)
    return value


def _tokenize(text: str) -> list[tuple[str, Any]]:
    tokens: list[tuple[str, Any]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise SoqlError(f"unexpected character at position {pos}: {text[pos : pos + 10]!r}")
        pos = match.end()
        kind = match.lastgroup or ""
        raw = match.group(kind)
        if kind == "str":
            tokens.append(("value", _unquote(raw)))
        elif kind == "date":
            tokens.append(("value", raw))
        elif kind == "num":
            tokens.append(("value", Decimal(raw)))
        elif kind == "ident" and raw.lower() in {"true", "false"}:
            tokens.append(("value", raw.lower() == "true"))
        elif kind == "ident" and raw.lower() == "null":
            tokens.append(("value", None))
        else:
            tokens.append((kind, raw))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.pos = 0

    def peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def keyword(self, word: str) -> bool:
        token = self.peek()
        if token and token[0] == "ident" and str(token[1]).lower() == word:
            self.pos += 1
            return True
        return False

    def expect_keyword(self, word: str) -> None:
        if not self.keyword(word):
            raise SoqlError(f"expecting {word.upper()} near {self._near()}")

    def expect(self, kind: str, raw: str | None = None) -> Any:
        token = self.peek()
        if token is None or token[0] != kind or (raw is not None and token[1] != raw):
            raise SoqlError(f"expecting {raw or kind} near {self._near()}")
        self.pos += 1
        return token[1]

    def ident(self, *, keyword_ok: bool = False) -> str:
        name = str(self.expect("ident"))
        if not keyword_ok and name.lower() in _KEYWORDS:
            raise SoqlError(f"unexpected keyword {name}")
        return name

    def _near(self) -> str:
        token = self.peek()
        return "end of query" if token is None else repr(token[1])

    def query(self) -> Query:
        self.expect_keyword("select")
        fields: list[str] = []
        count = False
        token = self.peek()
        if token and token[0] == "ident" and str(token[1]).lower() == "count":
            self.pos += 1
            self.expect("punct", "(")
            self.expect("punct", ")")
            count = True
        else:
            fields.append(self.ident())
            while self.peek() == ("punct", ","):
                self.pos += 1
                fields.append(self.ident())
        self.expect_keyword("from")
        sobject = self.ident(keyword_ok=True)  # ``FROM Order`` is fine
        where = self.disjunction() if self.keyword("where") else None
        order: list[tuple[str, bool]] = []
        if self.keyword("order"):
            self.expect_keyword("by")
            while True:
                name = self.ident()
                descending = self.keyword("desc")
                if not descending:
                    self.keyword("asc")
                order.append((name, descending))
                if self.peek() != ("punct", ","):
                    break
                self.pos += 1
        limit = self.integer() if self.keyword("limit") else None
        offset = self.integer() if self.keyword("offset") else 0
        if self.peek() is not None:
            raise SoqlError(f"unexpected token: {self._near()}")
        return Query(sobject, tuple(fields), count, where, tuple(order), limit, offset)

    def integer(self) -> int:
        value = self.expect("value")
        if not isinstance(value, Decimal) or value != value.to_integral_value() or value < 0:
            raise SoqlError("expecting a non-negative integer")
        return int(value)

    def disjunction(self) -> Condition:
        items = [self.conjunction()]
        while self.keyword("or"):
            items.append(self.conjunction())
        return items[0] if len(items) == 1 else Logical("or", tuple(items))

    def conjunction(self) -> Condition:
        items = [self.negation()]
        while self.keyword("and"):
            items.append(self.negation())
        return items[0] if len(items) == 1 else Logical("and", tuple(items))

    def negation(self) -> Condition:
        if self.keyword("not"):
            return Logical("not", (self.negation(),))
        if self.peek() == ("punct", "("):
            self.pos += 1
            inner = self.disjunction()
            self.expect("punct", ")")
            return inner
        return self.comparison()

    def comparison(self) -> Comparison:
        name = self.ident()
        if self.keyword("like"):
            return Comparison(name, "like", self.expect("value"))
        negated = self.keyword("not")
        if self.keyword("in"):
            self.expect("punct", "(")
            values = [self.expect("value")]
            while self.peek() == ("punct", ","):
                self.pos += 1
                values.append(self.expect("value"))
            self.expect("punct", ")")
            return Comparison(name, "notin" if negated else "in", tuple(values))
        if negated:
            raise SoqlError("expecting IN after NOT")
        op = str(self.expect("op"))
        return Comparison(name, "!=" if op == "<>" else op, self.expect("value"))


def parse(text: str) -> Query:
    """Parse ``text`` or raise :class:`SoqlError`."""
    return _Parser(text).query()


def _normalize(value: Any) -> Any:
    if isinstance(value, str):
        return value.casefold()
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return Decimal(str(value))
        except InvalidOperation:  # pragma: no cover - str(float) is always a Decimal
            return value
    return value


def _like(value: Any, pattern: Any) -> bool:
    if value is None or pattern is None:
        return False
    if isinstance(pattern, Quoted):
        return pattern.like.fullmatch(str(value).casefold()) is not None
    regex = "".join(
        ".*" if c == "%" else "." if c == "_" else re.escape(c) for c in str(pattern).lower()
    )
    return re.fullmatch(regex, str(value).lower(), re.DOTALL) is not None


_ORDERED: dict[str, Callable[[Any, Any], bool]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _compare(cond: Comparison, record: Mapping[str, Any]) -> bool:
    value = _normalize(record.get(cond.field))
    if cond.op == "like":
        return _like(value, cond.value)
    if cond.op in {"in", "notin"}:
        found = value in {_normalize(v) for v in cond.value}
        return found if cond.op == "in" else not found
    target = _normalize(cond.value)
    if cond.op == "=":
        return value == target
    if cond.op == "!=":
        return value != target
    if value is None or target is None:
        return False
    try:
        return _ORDERED[cond.op](value, target)
    except TypeError:
        return _ORDERED[cond.op](str(value), str(target))


def evaluate(cond: Condition | None, record: Mapping[str, Any]) -> bool:
    """Whether ``record`` (keyed by canonical field names) satisfies ``cond``."""
    if cond is None:
        return True
    if isinstance(cond, Comparison):
        return _compare(cond, record)
    if cond.op == "and":
        return all(evaluate(c, record) for c in cond.items)
    if cond.op == "or":
        return any(evaluate(c, record) for c in cond.items)
    return not evaluate(cond.items[0], record)


def sort_key(value: Any) -> tuple[int, Any]:
    """Nulls first (Salesforce's ascending default), then the normalized value as text/number."""
    normalized = _normalize(value)
    if normalized is None:
        return (0, "")
    if isinstance(normalized, Decimal):
        return (1, normalized)
    return (2, str(normalized))
