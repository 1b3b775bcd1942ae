"""Time, injected: the only module that reads the system clock."""

from __future__ import annotations

import datetime as dt
from typing import Protocol
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


class Clock(Protocol):
    """Tells the current time; tests pass a FixedClock they can move."""

    def now(self) -> dt.datetime:
        """Return an aware datetime."""
        ...


class SystemClock:
    """The real clock, in UTC."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class FixedClock:
    """A clock that stands still until moved."""

    def __init__(self, at: dt.datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._at = at

    def now(self) -> dt.datetime:
        return self._at

    def advance(self, delta: dt.timedelta) -> None:
        self._at += delta


def today(clock: Clock, tz: ZoneInfo = PARIS) -> dt.date:
    """The calendar date at the company's site."""
    return clock.now().astimezone(tz).date()
