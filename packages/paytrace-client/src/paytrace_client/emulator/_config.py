"""How the emulated PayTrace account behaves: one frozen object, passed in explicitly.

Every behaviour the reference marks as unknown ([U]) or account-specific (decline triggers,
HTTP status of declines, AVS/CSC auto-void, duplicate window, strict credentials) is a field
here, so a test can pin the variant it cares about instead of relying on our guess.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone, tzinfo
from decimal import Decimal
from typing import Literal

from paytrace_client.models import DEFAULT_EXPORT_TIMEZONE

__all__ = ["AutoVoidTrigger", "EmulatorConfig"]

AutoVoidTrigger = Literal["avs", "csc"]


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _default_users() -> Mapping[str, str]:
    # The legacy public demo login from PayTrace's own samples (reference section 1).
    return {"demo123": "demo123"}


@dataclass(frozen=True, slots=True)
class EmulatorConfig:
    """Behaviour switches of the emulated account. All fields are keyword arguments."""

    #: Amounts that the "processor" declines with response code 102 (reference 6: $0.29).
    decline_amounts: frozenset[Decimal] = frozenset({Decimal("0.29")})
    #: HTTP status of a 102/125 decline body. PayTrace's is unknown (200 or 400).
    decline_status: int = 200
    #: HTTP status of a ``response_code: 1`` (validation/business error) body.
    error_status: int = 400
    #: ``discretionary_data`` object added to card declines, as in fixture F2
    #: (``{"BALANCEAMOUNT": "11111.11"}``); None leaves it out, as F3 does.
    decline_discretionary_data: Mapping[str, str] | None = None
    #: Which mismatch auto-voids an approved card transaction (response code 103).
    auto_void_on: frozenset[AutoVoidTrigger] = frozenset()
    #: Billing ZIPs answered with AVS "No Match" (non-US ZIPs always are, as at PayTrace).
    avs_no_match_zips: frozenset[str] = frozenset({"99999"})
    #: CSC values answered with "No Match".
    csc_no_match_values: frozenset[str] = frozenset({"000"})
    #: The account's "Duplicate Transaction Time" in minutes (0 disables the filter).
    duplicate_window_minutes: int = 0
    #: Reject cards whose expiry is in the past (code 44). Off by default so that the
    #: reference fixtures (expiry 2020/2022) still replay.
    reject_expired_cards: bool = False
    #: Strict mode: only ``users`` may obtain tokens and every v1 body must carry one of
    #: ``integrator_ids`` (else error 981). Default: any well-formed credentials.
    strict: bool = False
    users: Mapping[str, str] = field(default_factory=_default_users)
    integrator_ids: frozenset[str] = frozenset({"9999DEMO"})
    #: OAuth token lifetime in seconds (PayTrace: 7200).
    token_lifetime_seconds: int = 7200
    #: Zone of export timestamps (``settled``, ``created.at``) and of date-range filters.
    export_timezone: tzinfo = DEFAULT_EXPORT_TIMEZONE
    #: The wall clock; the control endpoint ``/__emulator__/clock`` adds an offset to it.
    clock: Callable[[], datetime] = _utc_now
    #: How fault latency is slept (tests may inject a fake).
    sleep: Callable[[float], None] = time.sleep
    #: On a port, how long a "timeout after commit" holds the response before dropping the
    #: connection (longer than any sane client read timeout).
    withheld_response_seconds: float = 120.0
    #: Seed the demo customers and user on start and on reset.
    seed: bool = True
    first_transaction_id: int = 395970000
    first_check_transaction_id: int = 981600
    first_batch_number: int = 1001
