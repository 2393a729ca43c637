"""What a payment is made with: card, bank account, track data, Protect token.

These are plain frozen dataclasses rather than pydantic models so that an invalid value raises
:class:`PayTraceInputError` (naming the field) at construction, before any request exists.
Their ``repr`` never shows a full card or account number, a CSC, track data or a Protect
token: only the masked form PayTrace itself returns (``xxxxxxxxxxxx1111``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from paytrace_client._cards import CardBrand, card_brand, luhn_valid, mask_pan, routing_number_valid
from paytrace_client._errors import PayTraceInputError

from ._validate import digits_only, required_text

__all__ = ["Check", "CreditCard", "ProtectToken", "SwipeData"]

_REDACTED = "<redacted>"


def _card_today() -> date:
    # A card is valid through the last day of its expiration month wherever the cardholder is.
    # Using the date in the westernmost zone (UTC-12) never rejects a card that is still valid
    # somewhere; PayTrace makes the final decision anyway.
    return (datetime.now(timezone.utc) - timedelta(hours=12)).date()


def _month(value: int | str) -> int:
    name = "credit_card.expiration_month"
    if isinstance(value, str):
        if not value.strip().isdigit():
            raise PayTraceInputError(name, f"must be a number from 1 to 12, got {value!r}")
        value = int(value.strip())
    if isinstance(value, bool) or not 1 <= value <= 12:
        raise PayTraceInputError(name, f"must be a number from 1 to 12, got {value!r}")
    return value


def _year(value: int | str) -> int:
    name = "credit_card.expiration_year"
    text = value.strip() if isinstance(value, str) else str(value)
    if isinstance(value, bool) or not text.isdigit() or len(text) not in (2, 4):
        raise PayTraceInputError(name, f"must be a 2- or 4-digit year, got {value!r}")
    year = int(text)
    # "26" means 2026: cards are issued for at most ~20 years, so the century is never ambiguous.
    return 2000 + year if len(text) == 2 else year


@dataclass(frozen=True, init=False, repr=False)
class CreditCard:
    """A card for keyed transactions and vault profiles.

    ``expiration_month`` accepts ``9`` or ``"09"``; ``expiration_year`` accepts ``2026``,
    ``"2026"`` or ``"26"``; both are stored as ``int``. ``csc`` is optional (it may also be
    given to the transaction method). ``today`` is for tests; by default a card is rejected
    only once its expiration month is over everywhere.
    """

    number: str
    expiration_month: int
    expiration_year: int
    csc: str | None

    def __init__(
        self,
        number: str,
        expiration_month: int | str,
        expiration_year: int | str,
        *,
        csc: str | None = None,
        today: date | None = None,
    ) -> None:
        pan = digits_only(number, "credit_card.number", min_length=12, max_length=19)
        if not luhn_valid(pan):
            raise PayTraceInputError("credit_card.number", "is not a valid card number (Luhn)")
        month, year = _month(expiration_month), _year(expiration_year)
        now = today or _card_today()
        if (year, month) < (now.year, now.month):
            raise PayTraceInputError(
                "credit_card.expiration_year", f"the card expired at the end of {month:02d}/{year}"
            )
        object.__setattr__(self, "number", pan)
        object.__setattr__(self, "expiration_month", month)
        object.__setattr__(self, "expiration_year", year)
        object.__setattr__(self, "csc", validate_csc(csc) if csc is not None else None)

    @property
    def masked_number(self) -> str:
        """``xxxxxxxxxxxx1111``, the only form of the number that may be shown or stored."""
        return mask_pan(self.number)

    @property
    def brand(self) -> CardBrand:
        return card_brand(self.number)

    def to_wire(self) -> dict[str, str]:
        """The ``credit_card`` object: month and year as strings (``"09"``, ``"2026"``), the
        form PayTrace's own samples send. The CSC is not part of it (it goes top level)."""
        return {
            "number": self.number,
            "expiration_month": f"{self.expiration_month:02d}",
            "expiration_year": f"{self.expiration_year:04d}",
        }

    def __repr__(self) -> str:
        csc = ", csc=<redacted>" if self.csc is not None else ""
        return (
            f"CreditCard(number={self.masked_number!r}, expiration_month={self.expiration_month}"
            f", expiration_year={self.expiration_year}{csc})"
        )


def validate_csc(csc: str) -> str:
    """A card security code is 3 digits (4 for Amex); the message never contains it."""
    return digits_only(csc, "csc", min_length=3, max_length=4)


@dataclass(frozen=True, repr=False)
class Check:
    """A US bank account for ACH (``check`` object): account number and ABA routing number."""

    account_number: str
    routing_number: str

    def __post_init__(self) -> None:
        account = digits_only(
            self.account_number, "check.account_number", min_length=4, max_length=17
        )
        routing = digits_only(
            self.routing_number, "check.routing_number", min_length=9, max_length=9
        )
        if not routing_number_valid(routing):
            raise PayTraceInputError("check.routing_number", "fails the ABA checksum")
        object.__setattr__(self, "account_number", account)
        object.__setattr__(self, "routing_number", routing)

    @property
    def masked_account_number(self) -> str:
        return mask_pan(self.account_number)

    def to_wire(self) -> dict[str, str]:
        return {"account_number": self.account_number, "routing_number": self.routing_number}

    def __repr__(self) -> str:
        return (
            f"Check(account_number={self.masked_account_number!r}, "
            f"routing_number={self.routing_number!r})"
        )


@dataclass(frozen=True, repr=False)
class SwipeData:
    """Magnetic-stripe track data (``swipe``), sent as read; it contains the full PAN."""

    track_data: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "track_data", required_text(self.track_data, "swipe"))

    def __repr__(self) -> str:
        return f"SwipeData(track_data={_REDACTED})"


@dataclass(frozen=True, repr=False)
class ProtectToken:
    """What PayTrace Protect's hosted fields return in the browser: ``hpf_token``, ``enc_key``."""

    hpf_token: str
    enc_key: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "hpf_token", required_text(self.hpf_token, "hpf_token"))
        object.__setattr__(self, "enc_key", required_text(self.enc_key, "enc_key"))

    def to_wire(self) -> dict[str, str]:
        return {"hpf_token": self.hpf_token, "enc_key": self.enc_key}

    def __repr__(self) -> str:
        return f"ProtectToken(hpf_token={_REDACTED}, enc_key={_REDACTED})"
