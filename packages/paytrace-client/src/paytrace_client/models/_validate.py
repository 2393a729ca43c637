"""Small argument checks shared by the input types and the resources.

Each raises :class:`PayTraceInputError` naming the argument, so a caller learns which field is
wrong before anything is sent. None of them echoes a value that could be card data.
"""

from __future__ import annotations

from paytrace_client._errors import PayTraceInputError

__all__ = ["digits_only", "optional_text", "positive_int", "required_text"]


def required_text(value: str, field: str, *, max_length: int | None = None) -> str:
    """A non-blank string, stripped; PayTrace rejects empty identifiers."""
    if not isinstance(value, str):  # pyright: ignore[reportUnnecessaryIsInstance] - runtime guard for untyped callers
        raise PayTraceInputError(field, f"must be a string, got {type(value).__name__}")
    text = value.strip()
    if not text:
        raise PayTraceInputError(field, "must not be empty")
    if max_length is not None and len(text) > max_length:
        raise PayTraceInputError(field, f"must be at most {max_length} characters")
    return text


def optional_text(value: str | None, field: str, *, max_length: int | None = None) -> str | None:
    """``None`` stays ``None`` (the key is then omitted from the body); otherwise as above."""
    return None if value is None else required_text(value, field, max_length=max_length)


def positive_int(value: int, field: str) -> int:
    """PayTrace ids (``transaction_id``, ``check_transaction_id``, batch numbers): ints > 0."""
    if isinstance(value, bool) or not isinstance(value, int):  # pyright: ignore[reportUnnecessaryIsInstance] - runtime guard
        raise PayTraceInputError(field, f"must be an integer, got {type(value).__name__}")
    if value <= 0:
        raise PayTraceInputError(field, f"must be greater than zero, got {value}")
    return value


def digits_only(value: str, field: str, *, min_length: int, max_length: int) -> str:
    """A string of ASCII digits of bounded length; spaces and dashes are dropped first.

    The message never contains the value: this checks card and account numbers.
    """
    if not isinstance(value, str):  # pyright: ignore[reportUnnecessaryIsInstance] - runtime guard
        raise PayTraceInputError(field, f"must be a string, got {type(value).__name__}")
    text = value.replace(" ", "").replace("-", "")
    if not text.isascii() or not text.isdigit():
        raise PayTraceInputError(field, "must contain only digits")
    if not min_length <= len(text) <= max_length:
        raise PayTraceInputError(field, f"must have {min_length} to {max_length} digits")
    return text
