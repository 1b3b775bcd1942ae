"""Payment terms: how a due date follows from an invoice date.

Accepted forms (French practice, C. com. L441-10):

- ``30d``: net 30 days from the invoice date;
- ``45d-eom``: 45 days, then to the end of that month;
- ``eom+45d``: to the end of the invoice's month, then 45 days;
- ``0d``: payable on receipt.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

_FORM = re.compile(r"^(?:(?P<n>\d{1,3})d(?P<eom>-eom)?|eom\+(?P<m>\d{1,3})d)$")


@dataclass(frozen=True, slots=True)
class Terms:
    days: int
    end_of_month_after: bool = False  # 45d-eom
    end_of_month_first: bool = False  # eom+45d

    def due(self, issued: dt.date) -> dt.date:
        day = issued
        if self.end_of_month_first:
            day = _end_of_month(day)
        day += dt.timedelta(days=self.days)
        if self.end_of_month_after:
            day = _end_of_month(day)
        return day


def parse_terms(text: str) -> Terms:
    """Parse a terms string, or raise ValueError saying what is accepted."""
    match = _FORM.match(text.strip())
    if not match:
        raise ValueError("payment terms such as 30d, 45d-eom or eom+45d")
    if match["m"]:
        return Terms(int(match["m"]), end_of_month_first=True)
    return Terms(int(match["n"]), end_of_month_after=bool(match["eom"]))


def _end_of_month(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])
