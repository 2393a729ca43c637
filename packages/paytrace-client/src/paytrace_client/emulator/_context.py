"""What every endpoint handler receives, and the handler signature."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from ._config import EmulatorConfig
from ._responses import Json, Outcome
from ._state import State

__all__ = ["Ctx", "Handler"]


@dataclass(slots=True)
class Ctx:
    state: State
    config: EmulatorConfig
    now: datetime
    #: The API user the bearer token was issued to ("" on the token endpoint).
    user: str

    @property
    def expiry_today(self) -> date | None:
        """The date cards must not have expired by, or None when the account allows it."""
        return self.now.date() if self.config.reject_expired_cards else None


Handler = Callable[[Ctx, Json], tuple[Outcome, Json]]
