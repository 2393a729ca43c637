"""The small data set every fresh (or reset) emulator starts with; see EMULATOR.md.

``customerTest150`` is deliberately *not* seeded: fixture F7 creates it, and a seeded copy
would turn that replay into a 171 duplicate.
"""

from __future__ import annotations

from datetime import datetime

from ._fields import card_from_number
from ._state import CheckAccount, Customer, State

__all__ = ["SEED_CUSTOMER_IDS", "seed"]

SEED_CUSTOMER_IDS = ("customerTest123", "customerTest124-ach")


def seed(state: State, now: datetime) -> None:
    key = state.fingerprint_key
    state.customers["customerTest123"] = Customer(
        customer_id="customerTest123",
        card=card_from_number("4111111111111111", 12, now.year + 4, key),
        check=None,
        billing_address={
            "name": "Mark Smith",
            "street_address": "8320 E. West St.",
            "city": "Spokane",
            "state": "WA",
            "zip": "85284",
        },
        shipping_address={},
        email="mark.smith@example.com",
        phone="509-555-0100",
        created_at=now,
    )
    state.customers["customerTest124-ach"] = Customer(
        customer_id="customerTest124-ach",
        card=None,
        check=CheckAccount(
            masked_account="xx3456", routing_number="325070760", fingerprint=b"seed-ach"
        ),
        billing_address={"name": "Jane Doe", "zip": "99201"},
        shipping_address={},
        email="jane.doe@example.com",
        phone="",
        created_at=now,
    )
