"""Splitting an inclusive date range into request windows.

``transactions/export/by_date_range`` has no paging, so a long range is asked for one window at
a time; the windows tile ``[start, end]`` exactly: in order, contiguous, no day twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta

from paytrace_client._errors import PayTraceInputError

__all__ = ["check_date_range", "date_windows"]

_DAY = timedelta(days=1)


def check_date_range(start: date, end: date) -> None:
    """Raise ``PayTraceInputError`` unless ``start <= end`` are plain dates."""
    for name, value in (("start_date", start), ("end_date", end)):
        # A datetime is a date subclass, but which day it means depends on a zone we would
        # have to guess: make the caller say.
        if isinstance(value, datetime) or not isinstance(value, date):  # pyright: ignore[reportUnnecessaryIsInstance] - runtime guard
            raise PayTraceInputError(name, "must be a datetime.date (not a datetime)")
    if start > end:
        raise PayTraceInputError("start_date", f"is after end_date ({start} > {end})")


def date_windows(start: date, end: date, window: timedelta) -> Iterator[tuple[date, date]]:
    """Inclusive ``(first, last)`` day pairs of at most ``window`` days covering the range.

    The arguments are checked now, not when iteration starts, so a bad range fails at the call.
    """
    check_date_range(start, end)
    if window < _DAY or window % _DAY:
        raise PayTraceInputError("window", f"must be a whole number of days >= 1, got {window}")
    return _tile(start, end, window)


def _tile(start: date, end: date, window: timedelta) -> Iterator[tuple[date, date]]:
    first = start
    while first <= end:
        last = min(first + window - _DAY, end)
        yield first, last
        first = last + _DAY
