"""The priority list: the customers to call today, and why. Pure.

A customer is on the list when it has money overdue that may be chased: open
invoices past their due date, less bank money pending, leaving out invoices
disputed, on hold or under a promise not yet due; a customer on hold is left out.

Order:

1. customers with an **insurer deadline** (the policy's last day to declare an
   overdue invoice) within ``deadline_days`` or already passed come first,
   soonest deadline first: missing it loses the cover;
2. then by **points**, highest first: ``overdue × (1 + oldest days overdue / 30)
   × grade weight``, grade weights A 1, B 1.5, C 2, D 3, no grade 1.5, and × 1.5
   after a broken promise. Money at stake counts most; age and a poor payer
   record raise it.

Each row says why, in a short French sentence an assistant can read aloud.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

GRADE_WEIGHTS = {"A": Decimal(1), "B": Decimal("1.5"), "C": Decimal(2), "D": Decimal(3)}
NO_GRADE = Decimal("1.5")
BROKEN = Decimal("1.5")
MONTH = 30


@dataclass(frozen=True, slots=True, kw_only=True)
class Debtor:
    """What the list needs to know of one customer."""

    customer: str
    name: str
    overdue: Decimal  # chaseable overdue amount
    invoices: int  # overdue invoices
    oldest_days: int  # days overdue of the oldest
    grade: str | None = None
    deadline: dt.date | None = None  # the insurer's soonest declaration deadline
    deadline_invoice: str = ""
    insurer: str = ""
    on_hold: bool = False
    broken_promise: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Call:
    rank: int
    customer: str
    name: str
    overdue: Decimal
    oldest_days: int
    grade: str
    deadline: dt.date | None
    points: Decimal
    reason: str


def priority(
    debtors: Iterable[Debtor], as_of: dt.date, *, deadline_days: int, size: int
) -> list[Call]:
    """The ``size`` customers to call first on ``as_of``."""
    horizon = as_of + dt.timedelta(days=deadline_days)
    scored = []
    for d in debtors:
        if d.on_hold or d.overdue <= 0:
            continue
        urgent = d.deadline is not None and d.deadline <= horizon
        weight = GRADE_WEIGHTS.get(d.grade or "", NO_GRADE)
        points = d.overdue * (1 + Decimal(d.oldest_days) / MONTH) * weight
        if d.broken_promise:
            points *= BROKEN
        points = points.quantize(Decimal(1), ROUND_HALF_UP)
        order = (0, d.deadline) if urgent and d.deadline else (1, dt.date.max)
        scored.append((order, -points, d.customer, d, points, urgent))
    scored.sort(key=lambda s: s[:3])
    return [
        Call(
            rank=n,
            customer=d.customer,
            name=d.name,
            overdue=d.overdue,
            oldest_days=d.oldest_days,
            grade=d.grade or "",
            deadline=d.deadline,
            points=points,
            reason=reason(d, as_of, urgent=urgent),
        )
        for n, (_, _, _, d, points, urgent) in enumerate(scored[:size], start=1)
    ]


def reason(d: Debtor, as_of: dt.date, *, urgent: bool) -> str:
    """Why this customer is on the list, most pressing first."""
    parts = []
    if urgent and d.deadline is not None:
        left = (d.deadline - as_of).days
        when = (
            "aujourd'hui"
            if left == 0
            else (f"dans {left} j" if left > 0 else f"dépassée de {-left} j")
        )
        to = f" à {d.insurer}" if d.insurer else ""
        parts.append(f"déclaration{to} de {d.deadline_invoice} : {when}")
    plural = "s" if d.invoices > 1 else ""
    parts.append(f"{_money(d.overdue)} en retard ({d.invoices} facture{plural})")
    parts.append(f"plus ancienne : {d.oldest_days} j")
    if d.grade:
        parts.append(f"payeur {d.grade}")
    if d.broken_promise:
        parts.append("promesse non tenue")
    return " ; ".join(parts)


def _money(value: Decimal) -> str:
    whole, _, frac = f"{value:.2f}".partition(".")
    return f"{int(whole):,}".replace(",", "\u202f") + f",{frac} €"
