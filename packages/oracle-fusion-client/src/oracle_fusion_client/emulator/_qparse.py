"""Parsing of ``q`` row-match expressions and ``finder`` strings, as the emulator reads them.

Grammar (framework >= 2, plus version 1's ``;``-separated query by example)::

    expr   := term (("or") term)*
    term   := factor (("and" | ";") factor)*
    factor := "not"? ( "(" expr ")" | NAME OP literal )
    OP     := = | != | <> | < | <= | > | >= | LIKE
    literal:= 'text with '' doubled' | "text" | number | bare-word
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = ["QueryError", "compile_q", "parse_finder", "parse_literal_value"]

Predicate = Callable[[Mapping[str, Any]], bool]

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<lp>\() | (?P<rp>\)) | (?P<semi>;)
      | (?P<op><=|>=|!=|<>|=|<|>)
      | '(?P<sq>(?:[^']|'')*)'
      | "(?P<dq>(?:[^"]|"")*)"
      | (?P<word>[^\s()'";=<>!]+)
    )""",
    re.VERBOSE,
)


class QueryError(ValueError):
    """The expression cannot be processed (the emulator answers 400)."""


class _Literal:
    __slots__ = ("quoted", "text")

    def __init__(self, text: str, *, quoted: bool) -> None:
        self.text = text
        self.quoted = quoted


def _tokens(q: str) -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = []
    pos = 0
    q = q.rstrip()
    while pos < len(q):
        m = _TOKEN.match(q, pos)
        if m is None or m.end() == pos:
            raise QueryError(f"cannot read the query at position {pos}")
        pos = m.end()
        kind = m.lastgroup or ""
        if kind == "sq":
            out.append(("lit", _Literal(m.group("sq").replace("''", "'"), quoted=True)))
        elif kind == "dq":
            out.append(("lit", _Literal(m.group("dq").replace('""', '"'), quoted=True)))
        elif kind == "word":
            out.append(("word", m.group("word")))
        else:
            out.append((kind, m.group(kind)))
    return out


def parse_literal_value(text: str) -> Decimal | str:
    try:
        return Decimal(text)
    except InvalidOperation:
        return text


_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def _timestamp(text: str) -> datetime | None:
    """A zoned ISO-8601 timestamp (``LastUpdateDate``), else ``None``: timestamps compare as
    instants, whatever their offset or fraction digits."""
    if not _TIMESTAMP.match(text):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _compare(actual: object, op: str, lit: _Literal) -> bool:
    if actual is None:
        return op in {"!=", "<>"}
    if isinstance(actual, str) and op != "LIKE":
        left_at, right_at = _timestamp(actual), _timestamp(lit.text)
        if left_at is not None and right_at is not None:
            return _ORDER[op](left_at, right_at)
    if op == "LIKE":
        pattern = re.escape(lit.text).replace("%", ".*").replace(r"\*", ".*")
        return re.fullmatch(pattern, str(actual), re.DOTALL) is not None
    left: object = actual
    right: object = lit.text
    if isinstance(actual, int | float | Decimal) and not isinstance(actual, bool):
        try:  # a JSON number kept as float (child rows) compares by value, not as text
            left, right = Decimal(str(actual)), Decimal(lit.text)
        except InvalidOperation:
            left, right = str(actual), lit.text
    elif isinstance(actual, bool):
        left, right = str(actual).lower(), lit.text.lower()
    else:
        left = str(actual)
    return _ORDER[op](left, right)


_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<>": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


class _Parser:
    def __init__(self, tokens: list[tuple[str, object]], known: frozenset[str] | None) -> None:
        self.tokens = tokens
        self.i = 0
        self.known = known
        #: the attribute of the previous comparison: ``(Deptno>=10 and <= 30)`` reuses it
        self.last_name: str | None = None

    def peek(self) -> tuple[str, object] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, object]:
        tok = self.peek()
        if tok is None:
            raise QueryError("the query ends too early")
        self.i += 1
        return tok

    def is_word(self, word: str) -> bool:
        tok = self.peek()
        return tok is not None and tok[0] == "word" and str(tok[1]).lower() == word

    def expr(self) -> Predicate:
        parts = [self.term()]
        while self.is_word("or"):
            self.take()
            parts.append(self.term())
        return parts[0] if len(parts) == 1 else (lambda r: any(p(r) for p in parts))

    def term(self) -> Predicate:
        parts = [self.factor()]
        while self.is_word("and") or (self.peek() or ("", ""))[0] == "semi":
            self.take()
            parts.append(self.factor())
        return parts[0] if len(parts) == 1 else (lambda r: all(p(r) for p in parts))

    def factor(self) -> Predicate:
        if self.is_word("not"):
            self.take()
            inner = self.factor()
            return lambda r: not inner(r)
        kind, value = self.take()
        if kind == "lp":
            inner = self.expr()
            if self.take()[0] != "rp":
                raise QueryError("a parenthesis is not closed")
            return inner
        if kind == "op" and self.last_name is not None:
            name, op_kind, op = self.last_name, kind, value  # the attribute is implied
        elif kind != "word":
            raise QueryError("an attribute name is expected")
        else:
            name = str(value)
            if self.known is not None and name not in self.known:
                raise QueryError(f"unknown attribute {name}")
            op_kind, op = self.take()
        self.last_name = name
        if op_kind == "word" and str(op).upper() == "IN":
            literals = self.in_list()
            return lambda r: any(_compare(r.get(name), "=", lit) for lit in literals)
        if op_kind == "word" and str(op).upper() == "LIKE":
            op = "LIKE"
        elif op_kind != "op":
            raise QueryError("an operator is expected")
        lit_kind, lit = self.take()
        if lit_kind == "word":
            lit = _Literal(str(lit), quoted=False)
        elif lit_kind != "lit":
            raise QueryError("a value is expected")
        literal = lit if isinstance(lit, _Literal) else _Literal(str(lit), quoted=False)
        operator = str(op)
        return lambda r: _compare(r.get(name), operator, literal)

    def in_list(self) -> list[_Literal]:
        """``IN ('a', 'b', 3)``: the literals up to the closing parenthesis."""
        if self.take()[0] != "lp":
            raise QueryError("IN needs a parenthesised list")
        literals: list[_Literal] = []
        while True:
            kind, value = self.take()
            if kind == "rp":
                break
            if kind == "lit" and isinstance(value, _Literal):
                literals.append(value)
            elif kind == "word":
                words = [w.strip() for w in str(value).split(",")]
                literals += [_Literal(w, quoted=False) for w in words if w]
            else:
                raise QueryError("IN lists values")
        if not literals:
            raise QueryError("IN needs at least one value")
        return literals


def compile_q(q: str, known: frozenset[str] | None = None) -> Predicate:
    """A predicate over records; raises :class:`QueryError` for a malformed expression."""
    parser = _Parser(_tokens(q), known)
    predicate = parser.expr()
    if parser.peek() is not None:
        raise QueryError("unexpected text after the expression")
    return predicate


def parse_finder(text: str) -> tuple[str, dict[str, str]]:
    """``Name;a=1,b='x, y'`` -> ``("Name", {"a": "1", "b": "x, y"})``."""
    name, _, rest = text.partition(";")
    values: dict[str, str] = {}
    i = 0
    while i < len(rest):
        eq = rest.find("=", i)
        if eq < 0:
            raise QueryError("a finder variable has no value")
        key = rest[i:eq].strip()
        i = eq + 1
        if rest[i : i + 1] == "'":
            j = i + 1
            buf: list[str] = []
            while True:
                if j >= len(rest):
                    raise QueryError("a quoted finder value is not closed")
                if rest[j] == "'":
                    if rest[j + 1 : j + 2] == "'":
                        buf.append("'")
                        j += 2
                        continue
                    break
                buf.append(rest[j])
                j += 1
            values[key] = "".join(buf)
            i = j + 1
            if rest[i : i + 1] == ",":
                i += 1
        else:
            end = rest.find(",", i)
            end = len(rest) if end < 0 else end
            values[key] = rest[i:end]
            i = end + 1
    return name.strip(), values
