"""PayTrace Protect: client keys for the browser, and hpf_token/enc_key pairs as cards.

The real hosted fields turn a typed card into an opaque ``hpf_token`` + ``enc_key``. The
emulator cannot decrypt anything, so a token maps to a card registered through
:func:`register_token` (tests do this to choose the brand) or, for unknown tokens, to a
default Visa ending in 1111.
"""

from __future__ import annotations

import base64
import secrets
import uuid

from ._context import Ctx
from ._fields import Errors, card_from_number, fingerprint, text
from ._responses import Json, Outcome
from ._state import Card, State

__all__ = ["client_key", "protect_card", "register_token"]


def protect_card(ctx: Ctx, body: Json, errors: Errors) -> Card | None:
    hpf_token = text(body, "hpf_token")
    if not hpf_token or not text(body, "enc_key"):
        errors.add("53")
        return None
    known = ctx.state.protect_cards.get(hpf_token)
    if known is not None:
        return known
    return Card(
        masked="xxxxxxxxxxxx1111",
        bin_masked="411111xxxxxx1111",
        brand="VISA",
        exp_month=12,
        exp_year=ctx.now.year + 3,
        # Keyed on the token, so two unknown tokens are two different cards.
        fingerprint=fingerprint(ctx.state.fingerprint_key, hpf_token),
    )


def register_token(state: State, number: str, month: int, year: int) -> tuple[str, str]:
    """Register a card as if typed into Protect's hosted fields -> ``(hpf_token, enc_key)``."""
    hpf_token = str(uuid.uuid4())
    enc_key = base64.b64encode(secrets.token_bytes(32)).decode()
    state.protect_cards[hpf_token] = card_from_number(number, month, year, state.fingerprint_key)
    return hpf_token, enc_key


def client_key(ctx: Ctx, body: Json) -> tuple[Outcome, Json]:
    """``payment_fields/token/create``: only ``clientKey``, as the real endpoint returns."""
    return "ok", {"clientKey": secrets.token_urlsafe(48)}
