"""French B2B late-payment interest and the EUR 40 recovery indemnity (L441-10, D441-5).

Absent a contractual rate, the rate is the ECB's main refinancing rate + 10
points, the rate in force on 1 January for the first half-year and on 1 July
for the second; a contractual rate may not be lower than 3 times the legal
interest rate. Interest is simple, on the open amount, from the day after the
due date, days/365, rounded half up to the cent at the end. The semester is
the due date's. Consumer debtors owe neither (the engine leaves them out).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
YEAR = Decimal(365)

# (from, ECB main refinancing rate, taux légal "autres cas"), percent a year.
# Figures as published (ECB decisions; arrêtés fixing the taux légal); a site
# adds later semesters with [dunning.interest] rates = [{ from, ecb, legal }].
SHIPPED: tuple[tuple[dt.date, Decimal, Decimal], ...] = (
    (dt.date(2024, 1, 1), Decimal("4.50"), Decimal("5.07")),
    (dt.date(2024, 7, 1), Decimal("4.25"), Decimal("4.92")),
    (dt.date(2025, 1, 1), Decimal("3.15"), Decimal("3.71")),
    (dt.date(2025, 7, 1), Decimal("2.15"), Decimal("2.76")),
    (dt.date(2026, 1, 1), Decimal("2.15"), Decimal("2.62")),
)


@dataclass(frozen=True, slots=True)
class Rates:
    """A dated table of reference rates, and how a penalty rate follows from it."""

    table: tuple[tuple[dt.date, Decimal, Decimal], ...]
    points: Decimal = Decimal(10)

    @classmethod
    def build(
        cls,
        extra: Iterable[tuple[dt.date, Decimal, Decimal]] = (),
        points: Decimal = Decimal(10),
    ) -> Rates:
        merged = {start: (start, ecb, legal) for start, ecb, legal in SHIPPED}
        merged.update({start: (start, ecb, legal) for start, ecb, legal in extra})
        return cls(tuple(sorted(merged.values())), points)

    def semester(self, day: dt.date) -> dt.date:
        return dt.date(day.year, 1 if day.month <= 6 else 7, 1)  # noqa: PLR2004

    def reference(self, day: dt.date) -> tuple[Decimal, Decimal, bool]:
        """(ECB rate, legal rate) in force at the start of ``day``'s semester.

        The third value is False when the table has nothing for that semester
        and the newest known rates stand in (a site should add the new ones).
        """
        return _reference(self.table, self.semester(day))

    def penalty_rate(self, due: dt.date, contractual: Decimal | None = None) -> Decimal:
        """The annual rate (percent) that applies to an invoice due on ``due``."""
        ecb, legal, _ = self.reference(due)
        if contractual is not None:  # never under 3 x the legal rate (L441-10 II)
            return max(contractual, 3 * legal)
        return ecb + self.points

    def is_current(self, day: dt.date) -> bool:
        return self.reference(day)[2]


@functools.lru_cache(maxsize=512)
def _reference(
    table: tuple[tuple[dt.date, Decimal, Decimal], ...], start: dt.date
) -> tuple[Decimal, Decimal, bool]:
    known = [row for row in table if row[0] <= start]
    if not known:
        first = table[0]
        return first[1], first[2], False
    row = known[-1]
    return row[1], row[2], row[0] == start or len(known) < len(table)


def interest(
    open_amount: Decimal, due: dt.date, as_of: dt.date, rate: Decimal
) -> Decimal:
    """Simple interest on ``open_amount`` from the day after ``due`` to ``as_of``."""
    days = (as_of - due).days
    if days <= 0 or open_amount <= 0:
        return Decimal("0.00")
    raw = open_amount * rate / HUNDRED * Decimal(days) / YEAR
    return raw.quantize(CENT, ROUND_HALF_UP)
