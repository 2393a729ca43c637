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
    "TARGET_SETS",
    "SourceField",
    "Suggestion",
    "TargetField",
    "TargetSet",
    "fit",
    "suggest_mapping",
    "suggestions_to_toml",
    "target_sets",
]

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SPLIT = re.compile(r"[^a-z0-9]+")
_NOISE = frozenset({"c", "r", "the", "of", "id"})


#: abbreviation -> the word it stands for (names are compared after this expansion)
_SYNONYMS: dict[str, str] = {
    "amt": "amount",
    "total": "amount",
    "sum": "amount",
    "num": "number",
    "no": "number",
    "nbr": "number",
    "ccy": "currency",
    "curr": "currency",
    "dt": "date",
    "txn": "transaction",
    "trx": "transaction",
    "cust": "customer",
    "acct": "account",
    "desc": "description",
    "qty": "quantity",
}


def _tokens(text: str) -> set[str]:
    text = re.sub(r"__(c|r|e)$", "", text)
    words = _SPLIT.split(_CAMEL.sub(" ", text).lower())
    return {_SYNONYMS.get(w, w) for w in words if w and w not in _NOISE}


def _normal(text: str) -> str:
    return "".join(sorted(_tokens(text)))


#: Which source types can hold which target kinds.
_COMPATIBLE: dict[str, frozenset[str]] = {
    "decimal": frozenset({"currency", "double", "decimal", "number", "percent", "int", "integer"}),
    "string": frozenset({"string", "textarea", "picklist", "phone", "email", "url", "combobox"}),
    "id": frozenset({"string", "id", "reference", "integer"}),
    "reference": frozenset({"reference", "id"}),
    "datetime": frozenset({"datetime", "date-time", "timestamp"}),
    "date": frozenset({"date", "datetime"}),
    "picklist": frozenset({"picklist", "string", "combobox"}),
    "boolean": frozenset({"boolean", "checkbox"}),
    "integer": frozenset({"int", "integer", "double", "number", "decimal"}),
}

_SAMPLE_SHAPES: dict[str, re.Pattern[str]] = {
    "money": re.compile(r"^-?\d{1,12}(\.\d{1,2})?$"),
    "last4": re.compile(r"^\d{4}$"),
    "currency_code": re.compile(r"^[A-Z]{3}$"),
    "datetime": re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}"),
    "date": re.compile(r"^\d{4}-\d{2}-\d{2}$"),
    "sf_id": re.compile(r"^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$"),
    "digits": re.compile(r"^\d{4,12}$"),
    "email": re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$"),
    "fusion_id": re.compile(r"^\d{6,18}$"),
    "text": re.compile(r"^.*[A-Za-z].*\s.*$"),
    "code": re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\- ]{0,39}$"),
    "integer": re.compile(r"^-?\d{1,9}$"),
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


@dataclass(frozen=True)
class TargetSet:
    """One paysync mapping a source may be mapped onto: ``table`` is the TOML table the
    snippet is written for."""

    name: str
    system: str
    table: str
    targets: tuple[TargetField, ...]
    title: str = ""


_T = TargetField
ORDER_TARGETS = (
    _T("external_id", "id", ("external order", "order number", "web order"), "code", True),
    _T("account", "reference", ("account", "customer"), "sf_id", True),
    _T("effective_date", "date", ("order date", "effective", "start date"), "date", True),
    _T("status", "picklist", ("state", "order status"), None, True),
    _T("fulfillment_status", "string", ("fulfillment", "shipping status"), None),
)
REFUND_TARGETS = (
    _T("external_id", "id", ("payment id", "gateway id", "external"), "digits", True),
    _T("account", "reference", ("account", "customer"), "sf_id"),
    _T("transaction_id", "id", ("transaction", "gateway transaction"), "digits"),
    _T("status", "picklist", ("state", "payment status"), None, True),
    _T("refunded_amount", "decimal", ("refunded", "refund amount", "credited"), "money"),
    _T("status_reason", "string", ("reason", "message"), None),
)
SUBSCRIPTION_TARGETS = (
    _T("amount", "decimal", ("charge amount", "price", "recurring amount"), "money", True),
    _T("interval", "picklist", ("frequency", "billing period", "cycle"), None, True),
    _T("next_charge_date", "date", ("next billing", "next charge", "renewal date"), "date", True),
    _T("vault_id", "string", ("vault", "customer profile", "token"), None, True),
    _T("status", "picklist", ("state", "subscription status"), None, True),
    _T("failed_attempts", "integer", ("failures", "retry count", "attempts"), "integer", True),
    _T("account", "reference", ("account", "customer"), "sf_id"),
)
_FOLLOWUP = (
    _T("external_id", "id", ("paysync key", "external", "key"), "code", True),
    _T("subject", "string", ("title", "summary"), None, True),
    _T("description", "string", ("comments", "details", "body"), "text"),
    _T("status", "picklist", ("state",), None),
    _T("priority", "picklist", ("urgency", "severity"), None),
)
TASK_TARGETS = (*_FOLLOWUP, _T("what", "reference", ("related to", "what", "account"), "sf_id"))
CASE_TARGETS = (
    *_FOLLOWUP,
    _T("origin", "picklist", ("source", "channel"), None),
    _T("account", "reference", ("account", "customer"), "sf_id"),
    _T("amount", "decimal", ("dispute amount", "chargeback amount"), "money"),
    _T("reason_code", "string", ("reason code", "dispute reason"), "code"),
    _T("transaction_id", "id", ("transaction", "gateway transaction"), "digits"),
)
# Fusion: the canonical values paysync sends, by the attribute that should receive them.
RECEIPT_TARGETS = (
    _T("receipt_number", "id", ("receipt number", "document number", "reference"), "code", True),
    _T("amount", "decimal", ("receipt amount", "entered amount"), "money", True),
    _T("currency", "string", ("currency code", "currency"), "currency_code", True),
    _T("receipt_date", "date", ("receipt date", "deposit date", "payment date"), "date"),
    _T("customer_account", "id", ("customer account number", "bill to account"), "digits"),
    _T("receipt_method", "string", ("receipt method", "payment method"), None, True),
    _T("business_unit", "string", ("business unit", "bu", "org"), None, True),
    _T("comments", "string", ("comments", "memo", "note"), "text"),
)
INVOICE_TARGETS = (
    _T("invoice_number", "id", ("transaction number", "invoice number", "document"), "code", True),
    _T("invoice_date", "date", ("transaction date", "invoice date"), "date", True),
    _T("customer_account", "id", ("bill to customer number", "customer account"), "digits", True),
    _T("currency", "string", ("invoice currency code", "currency"), "currency_code", True),
    _T("business_unit", "string", ("business unit",), None, True),
    _T("transaction_source", "string", ("transaction source", "batch source"), None),
    _T("transaction_type", "string", ("transaction type",), None),
    _T("payment_terms", "string", ("payment terms", "terms"), None),
)
CREDIT_MEMO_TARGETS = (
    _T("memo_number", "id", ("transaction number", "credit memo number"), "code", True),
    _T("memo_date", "date", ("transaction date", "credit date"), "date", True),
    _T("customer_account", "id", ("bill to customer number", "customer account"), "digits", True),
    _T("currency", "string", ("credit memo currency", "currency"), "currency_code", True),
    _T("reason", "string", ("credit reason", "reason"), None),
    _T("comments", "string", ("credit memo comments", "comments"), "text"),
)
SALES_ORDER_TARGETS = (
    _T("order_number", "id", ("source transaction number", "order number"), "code", True),
    _T("transaction_id", "id", ("source transaction id", "gateway transaction"), "digits", True),
    _T("source_system", "string", ("source transaction system", "source system"), None, True),
    _T("currency", "string", ("transactional currency code", "currency"), "currency_code", True),
    _T("customer", "id", ("buying party number", "customer", "party"), "digits"),
    _T("business_unit", "string", ("business unit name", "business unit"), None),
)

TARGET_SETS: tuple[TargetSet, ...] = (
    TargetSet("payment", "salesforce", "usecases.order_to_cash.payment_fields", PAYMENT_TARGETS),
    TargetSet("order", "salesforce", "usecases.ecommerce.order_fields", ORDER_TARGETS),
    TargetSet("refund", "salesforce", "usecases.refunds.payment_fields", REFUND_TARGETS),
    TargetSet(
        "subscription", "salesforce", "usecases.recurring_billing.fields", SUBSCRIPTION_TARGETS
    ),
    TargetSet("task", "salesforce", "usecases.declines_chargebacks.task", TASK_TARGETS),
    TargetSet("case", "salesforce", "usecases.declines_chargebacks.chargebacks.case", CASE_TARGETS),
    # paysync has no configurable Fusion field map yet: these tables document a proposal.
    TargetSet("receipt", "fusion", "mapping_proposals.fusion.receipt", RECEIPT_TARGETS),
    TargetSet("invoice", "fusion", "mapping_proposals.fusion.invoice", INVOICE_TARGETS),
    TargetSet("credit_memo", "fusion", "mapping_proposals.fusion.credit_memo", CREDIT_MEMO_TARGETS),
    TargetSet("sales_order", "fusion", "mapping_proposals.fusion.sales_order", SALES_ORDER_TARGETS),
)


def target_sets(system: str, name: str = "all") -> tuple[TargetSet, ...]:
    """The target sets of ``system`` (``salesforce`` / ``fusion``), or the one named."""
    found = tuple(t for t in TARGET_SETS if t.system == system and name in ("all", t.name))
    if not found:
        names = ", ".join(t.name for t in TARGET_SETS if t.system == system)
        raise ValueError(f"--target: {name!r} is not a {system} target ({names}, all)")
    return found


def fit(target_set: TargetSet, suggestions: Sequence[Suggestion]) -> float:
    """How well a source fits a target set: mean confidence over its required targets."""
    required = {t.name for t in target_set.targets if t.required} or {
        t.name for t in target_set.targets
    }
    scores = [s.confidence for s in suggestions if s.target in required]
    return round(sum(scores) / max(1, len(scores)), 2)
