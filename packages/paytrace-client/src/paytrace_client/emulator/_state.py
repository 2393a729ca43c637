"""The emulator's in-memory records and the one lock that guards them.

Plain slotted dataclasses in plain dicts: a sale must cost microseconds, not a pydantic
validation. Card data is reduced to masked forms at the boundary (``_fields``), so no record
can ever hold a full PAN or a CSC; ``fingerprint`` is a keyed hash used only by the
duplicate-transaction filter and never leaves the process.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

__all__ = [
    "Batch",
    "Card",
    "CheckAccount",
    "CheckTxn",
    "Customer",
    "State",
    "Token",
    "Txn",
    "TxnType",
]

TxnType = Literal["SALE", "AUTHORIZATION", "REFUND"]
ZERO = Decimal("0.00")


@dataclass(slots=True, frozen=True)
class Card:
    masked: str  # xxxxxxxxxxxx1111
    bin_masked: str  # 411111xxxxxx1111 (first 6 + last 4, for include_bin)
    brand: str
    exp_month: int
    exp_year: int
    fingerprint: bytes = field(repr=False, compare=False)


@dataclass(slots=True, frozen=True)
class CheckAccount:
    masked_account: str
    routing_number: str
    fingerprint: bytes = field(repr=False, compare=False)


@dataclass(slots=True)
class Customer:
    customer_id: str
    card: Card | None
    check: CheckAccount | None
    billing_address: dict[str, Any]
    shipping_address: dict[str, Any]
    email: str
    phone: str
    created_at: datetime
    protect: bool = False

    @property
    def name(self) -> str:
        return str(self.billing_address.get("name", ""))


@dataclass(slots=True)
class Txn:
    transaction_id: int
    type: TxnType
    amount: Decimal
    card: Card
    created_at: datetime
    user: str
    approved: bool
    approval_code: str = ""
    approval_message: str = ""
    avs_response: str = ""
    csc_response: str = ""
    customer_id: str = ""
    invoice_id: str = ""
    description: str = ""
    billing_address: dict[str, Any] = field(default_factory=dict[str, Any])
    voided: bool = False
    captured: bool = False
    batch_number: int | None = None
    settled_at: datetime | None = None
    refunded: Decimal = ZERO
    parent_id: int | None = None
    level3_lines: int = 0
    auto_voided: bool = False
    discretionary_data: dict[str, str] = field(default_factory=dict[str, str])
    """``discretionary_data`` sent with the charge; echoed in its export record (reference
    [I]: the field appears in responses; exporting it is inferred)."""

    @property
    def pending_settlement(self) -> bool:
        """Will settle in the next batch: approved, live, and (if an auth) captured."""
        return (
            self.approved
            and not self.voided
            and self.batch_number is None
            and (self.type != "AUTHORIZATION" or self.captured)
        )

    @property
    def uncaptured_auth(self) -> bool:
        return (
            self.type == "AUTHORIZATION" and self.approved and not self.voided and not self.captured
        )


@dataclass(slots=True)
class CheckTxn:
    check_transaction_id: int
    kind: Literal["SALE", "HOLD", "REFUND"]
    amount: Decimal
    account: CheckAccount
    created_at: datetime
    user: str
    approved: bool
    customer_id: str = ""
    invoice_id: str = ""
    description: str = ""
    held: bool = False
    voided: bool = False
    refunded: Decimal = ZERO
    parent_id: int | None = None


@dataclass(slots=True)
class Batch:
    number: int
    settled_at: datetime
    transaction_ids: list[int]
    sale_count: int
    sale_amount: Decimal
    refund_count: int
    refund_amount: Decimal


@dataclass(slots=True)
class Token:
    access_token: str
    user: str
    created_at: datetime
    expires_at: datetime


@dataclass(slots=True)
class State:
    """Everything the emulated account knows. Mutate only while holding ``lock``."""

    next_txn_id: int
    next_check_id: int
    next_batch: int
    lock: threading.RLock = field(default_factory=threading.RLock)
    clock_offset: timedelta = timedelta()
    txns: dict[int, Txn] = field(default_factory=dict[int, Txn])
    checks: dict[int, CheckTxn] = field(default_factory=dict[int, CheckTxn])
    customers: dict[str, Customer] = field(default_factory=dict[str, Customer])
    batches: dict[int, Batch] = field(default_factory=dict[int, Batch])
    tokens: dict[str, Token] = field(default_factory=dict[str, Token])
    #: Duplicate filter: (fingerprint, amount, invoice_id, user) -> (txn id, time).
    recent: dict[tuple[bytes, Decimal, str, str], tuple[int, datetime]] = field(
        default_factory=dict[tuple[bytes, Decimal, str, str], tuple[int, datetime]]
    )
    #: Protect hpf_token -> card registered through the Python API (else a default Visa).
    protect_cards: dict[str, Card] = field(default_factory=dict[str, Card])
    #: Per-process key for card fingerprints; never exported.
    fingerprint_key: bytes = field(default_factory=lambda: secrets.token_bytes(16), repr=False)

    def take_txn_id(self) -> int:
        self.next_txn_id += 1
        return self.next_txn_id

    def take_check_id(self) -> int:
        self.next_check_id += 1
        return self.next_check_id
