"""French public holidays (jours fériés): no reminder goes out on them.

The eleven national ones: fixed dates, and Easter Monday, Ascension Thursday and
Whit Monday, which follow Easter (computed with the anonymous Gregorian
algorithm, Meeus/Jones/Butcher). Alsace-Moselle's Good Friday and 26 December
are added with ``[daemon] closed_days``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import cache

_FIXED = ((1, 1), (5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25))


def easter(year: int) -> dt.date:
    """Easter Sunday of ``year`` (Gregorian calendar)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 19 * l_) // 433
    month = (h + l_ - 7 * m + 90) // 25
    day = (h + l_ - 7 * m + 33 * month + 19) % 32
    return dt.date(year, month, day)


@cache
def french(year: int) -> frozenset[dt.date]:
    """The national public holidays of ``year``."""
    sunday = easter(year)
    moving = (sunday + dt.timedelta(days=n) for n in (1, 39, 50))
    return frozenset((*(dt.date(year, m, d) for m, d in _FIXED), *moving))


def closer(kind: str, extra: tuple[dt.date, ...]) -> Callable[[dt.date], bool]:
    """Whether a day is closed: a national holiday (``kind`` "FR") or listed."""
    listed = frozenset(extra)

    def closed(day: dt.date) -> bool:
        return day in listed or (kind == "FR" and day in french(day.year))

    return closed
