"""``paysync mapping suggest``: propose a field mapping from names, types and sample values.

No external service: each target field is scored against every source field by
(1) token overlap of names and labels after expanding known synonyms, (2) string similarity of
the normalised names, (3) type compatibility and (4) whether sample values look like the target
(money, four digits, an ISO date ...). Assignment is greedy by score with each source field
used once. Every suggestion carries its confidence and the reason, and is written as a config
snippet for review: nothing is ever applied.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher

__all__ = [
    "PAYMENT_TARGETS",
    "SourceField",
    "Suggestion",
    "TargetField",
    "suggest_mapping",
    "suggestions_to_toml",
]

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SPLIT = re.compile(r"[^a-z0-9]+")
_NOISE = frozenset({"c", "r", "the", "of", "id"})


def _tokens(text: str) -> set[str]:
    text = re.sub(r"__(c|r|e)$", "", text)
    words = _SPLIT.split(_CAMEL.sub(" ", text).lower())
    return {w for w in words if w and w not in _NOISE}


def _normal(text: str) -> str:
    return "".join(sorted(_tokens(text)))


#: Which source types can hold which target kinds.
_COMPATIBLE: dict[str, frozenset[str]] = {
    "decimal": frozenset({"currency", "double", "decimal", "number", "percent", "int"}),
    "string": frozenset({"string", "textarea", "picklist", "phone", "email", "url", "combobox"}),
    "id": frozenset({"string", "id", "reference"}),
    "reference": frozenset({"reference", "id"}),
    "datetime": frozenset({"datetime", "date-time", "timestamp"}),
    "date": frozenset({"date", "datetime"}),
    "picklist": frozenset({"picklist", "string", "combobox"}),
    "boolean": frozenset({"boolean", "checkbox"}),
}

_SAMPLE_SHAPES: dict[str, re.Pattern[str]] = {
    "money": re.compile(r"^-?\d{1,12}(\.\d{1,2})?$"),
    "last4": re.compile(r"^\d{4}$"),
    "currency_code": re.compile(r"^[A-Z]{3}$"),
    "datetime": re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}"),
    "date": re.compile(r"^\d{4}-\d{2}-\d{2}$"),
    "sf_id": re.compile(r"^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$"),
    "digits": re.compile(r"^\d{4,12}$"),
}


@dataclass(frozen=True)
class SourceField:
    """A field of the unmapped object (Salesforce describe or Fusion resource attribute)."""

    name: str
    type: str = "string"
    label: str = ""
    samples: tuple[str, ...] = ()


@dataclass(frozen=True)
class TargetField:
    """A slot of our mapping (for example ``PaymentFieldMap.amount``)."""

    name: str
    kind: str
    synonyms: tuple[str, ...] = ()
    shape: str | None = None  # a key of _SAMPLE_SHAPES the samples should match
    required: bool = False

    @property
    def vocabulary(self) -> set[str]:
        found = _tokens(self.name)
        for synonym in self.synonyms:
            found |= _tokens(synonym)
        return found


@dataclass(frozen=True)
class Suggestion:
    target: str
    source: str | None
    confidence: float
    reasons: tuple[str, ...] = field(default_factory=tuple[str, ...])

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons) if self.reasons else "no plausible field"


#: The Salesforce payment record slots of :class:`~paysync_core.mapping.PaymentFieldMap`.
PAYMENT_TARGETS: tuple[TargetField, ...] = (
    TargetField("external_id", "id", ("payment id", "gateway id", "external"), "digits", True),
    TargetField("amount", "decimal", ("total", "charged", "payment amount"), "money", True),
    TargetField("currency", "string", ("currency code", "iso currency"), "currency_code"),
    TargetField("status", "picklist", ("state", "result", "payment status"), None, True),
    TargetField("last4", "string", ("last four", "last 4 digits", "card last", "masked"), "last4"),
    TargetField("transaction_id", "id", ("transaction", "txn", "gateway transaction"), "digits"),
    TargetField("account", "reference", ("account", "customer"), "sf_id"),
    TargetField("processed_at", "datetime", ("processed", "paid at", "payment date"), "datetime"),
    TargetField("opportunity", "reference", ("opportunity", "deal"), "sf_id"),
    TargetField("card_type", "picklist", ("card brand", "card type", "network"), None),
    TargetField("vault_id", "string", ("vault", "customer profile", "token"), None),
    TargetField("status_reason", "string", ("reason", "decline reason", "message"), None),
)


def _score(target: TargetField, source: SourceField) -> tuple[float, list[str]]:
    reasons: list[str] = []
    words = _tokens(source.name) | _tokens(source.label)
    overlap = target.vocabulary & words
    token_score = len(overlap) / max(1, len(_tokens(source.name) | _tokens(target.name)))
    token_score = min(1.0, token_score)
    if overlap:
        reasons.append(f"name/label share {', '.join(sorted(overlap))!s}")
    similarity = max(
        SequenceMatcher(None, _normal(target.name), _normal(source.name)).ratio(),
        max(
            (
                SequenceMatcher(None, _normal(s), _normal(source.name)).ratio()
                for s in target.synonyms
            ),
            default=0.0,
        ),
    )
    if similarity >= 0.8:
        reasons.append(f"name {source.name!r} ~ {target.name!r} ({similarity:.2f})")
    fits = source.type.lower() in _COMPATIBLE.get(target.kind, frozenset({target.kind}))
    reasons.append(f"type {source.type} {'fits' if fits else 'does not fit'} {target.kind}")
    sample_score = 0.0
    if target.shape and source.samples:
        pattern = _SAMPLE_SHAPES[target.shape]
        matching = sum(1 for s in source.samples if pattern.match(s))
        sample_score = matching / len(source.samples)
        if sample_score:
            reasons.append(f"{matching}/{len(source.samples)} samples look like {target.shape}")
    score = 0.5 * token_score + 0.25 * similarity + 0.15 * sample_score + (0.1 if fits else -0.3)
    return max(0.0, min(1.0, score)), reasons


def suggest_mapping(
    targets: Sequence[TargetField],
    fields: Iterable[SourceField],
    *,
    threshold: float = 0.35,
) -> list[Suggestion]:
    """One suggestion per target, best candidates first; ``source=None`` when nothing fits."""
    candidates = list(fields)
    scored: list[tuple[float, int, TargetField, SourceField, list[str]]] = []
    for t_index, target in enumerate(targets):
        for source in candidates:
            score, reasons = _score(target, source)
            if score >= threshold:
                scored.append((score, -t_index, target, source, reasons))
    scored.sort(key=lambda item: (item[0], item[1]), reverse=True)
    chosen: dict[str, Suggestion] = {}
    used: set[str] = set()
    for score, _, target, source, reasons in scored:
        if target.name in chosen or source.name in used:
            continue
        chosen[target.name] = Suggestion(target.name, source.name, round(score, 2), tuple(reasons))
        used.add(source.name)
    return [chosen.get(t.name, Suggestion(t.name, None, 0.0)) for t in targets]


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def suggestions_to_toml(table: str, suggestions: Sequence[Suggestion], *, title: str) -> str:
    """A reviewable TOML snippet; unmatched slots are commented out."""
    lines = [
        f"# {title}",
        "# Suggested by `paysync mapping suggest`: review every line; nothing was applied.",
        f"[{table}]",
    ]
    for s in suggestions:
        if s.source is None:
            lines.append(f"# {s.target} = ?  # no plausible field found")
        else:
            comment = f"confidence {s.confidence:.2f}: {s.reason}"
            lines.append(f"{s.target} = {_toml_string(s.source)}  # {comment}")
    return "\n".join(lines) + "\n"
