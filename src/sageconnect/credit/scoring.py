"""Payer scoring: how late each customer pays, from the money that settled its invoices.

Each piece of money that settled an invoice (an allocation of a payment to an
invoice, whatever its origin: lettering, the source's own settlements, our bank
matches) counts with its amount ``a``, the invoice's due date and the day the
money settled it (``allocations.allocated_on``). Its delay is
``late = max(0, settled_on - due)`` in days. Credit notes settle nothing here:
they reduce what was owed, they are not a payment.

Only money settled in the 365 days up to ``as_of`` counts (``as_of - 364`` to
``as_of``, both included). Over that window:

- ``avg_days_late = Σ(a × late) / Σ a``, to the hundredth of a day;
- ``on_time_share = Σ(a where late = 0) / Σ a``, to the thousandth;
- ``trend = avg_days_late(last 90 days) - avg_days_late(the 275 days before)``:
  positive means paying later than before; None when either window is empty;
- ``invoices``: how many invoices that money settled;
- ``open_overdue_days = Σ(open × max(0, as_of - due)) / Σ open`` over every
  invoice still open on ``as_of`` (those not yet due count 0 days), None when
  nothing is open; ``max_overdue_days`` the most any open invoice is overdue.

``grade``:

- ``D`` when anything open is more than 90 days overdue, whatever the history;
- otherwise None without money settled in the window (nothing to judge on);
- ``A`` when ``avg_days_late <= 5`` and ``on_time_share >= 0.8``;
- ``B`` when ``avg_days_late <= 15``;
- ``C`` when ``avg_days_late <= 45``;
- ``D`` beyond.

The grade is read on the rounded figures, so that what is shown explains it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Connection, select

from sageconnect.store.open_items import open_items as read_open_items
from sageconnect.store.tables import allocations, customers, invoices

WINDOW_DAYS = 365
RECENT_DAYS = 90
D_OVERDUE_DAYS = 90
A_DAYS, A_SHARE = Decimal(5), Decimal("0.8")
B_DAYS = Decimal(15)
C_DAYS = Decimal(45)
DAYS = Decimal("0.01")
SHARE = Decimal("0.001")
ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True, kw_only=True)
class Settled:
    """Money that settled (part of) an invoice."""

    invoice: str  # the invoice's key
    amount: Decimal  # > 0
    due: dt.date
    settled_on: dt.date


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenDue:
    """What is still open of an invoice."""

    invoice: str
    amount: Decimal  # > 0
    due: dt.date


@dataclass(frozen=True, slots=True, kw_only=True)
class Score:
    """How a customer pays; see the module's docstring for each figure."""

    grade: str | None  # A, B, C, D; None: no money settled to judge on
    avg_days_late: Decimal | None
    on_time_share: Decimal | None
    trend: Decimal | None
    open_overdue_days: Decimal | None
    max_overdue_days: int
    invoices: int  # invoices settled in the window
    settled: Decimal  # money settled in the window
    open: Decimal  # still open on as_of


def score(
    settlements: list[Settled], open_items: list[OpenDue], as_of: dt.date
) -> Score:
    """One customer's score on ``as_of``, from its settlements and open invoices."""
    start = as_of - dt.timedelta(days=WINDOW_DAYS)
    recent_start = as_of - dt.timedelta(days=RECENT_DAYS)
    window = [s for s in settlements if start < s.settled_on <= as_of and s.amount > 0]
    settled = sum((s.amount for s in window), ZERO)
    avg = _avg_late(window)
    share = (
        _round(sum((s.amount for s in window if _late(s) == 0), ZERO) / settled, SHARE)
        if settled
        else None
    )
    recent = _avg_late(s for s in window if s.settled_on > recent_start)
    earlier = _avg_late(s for s in window if s.settled_on <= recent_start)
    trend = recent - earlier if recent is not None and earlier is not None else None

    owed = [
        (o.amount, max((as_of - o.due).days, 0)) for o in open_items if o.amount > 0
    ]
    open_total = sum((amount for amount, _ in owed), ZERO)
    open_days = (
        _round(sum((a * days for a, days in owed), ZERO) / open_total, DAYS)
        if open_total
        else None
    )
    worst = max((days for _, days in owed), default=0)
    return Score(
        grade=_grade(avg, share, worst),
        avg_days_late=avg,
        on_time_share=share,
        trend=trend,
        open_overdue_days=open_days,
        max_overdue_days=worst,
        invoices=len({s.invoice for s in window}),
        settled=settled,
        open=open_total,
    )


def _late(s: Settled) -> int:
    return max((s.settled_on - s.due).days, 0)


def _avg_late(settlements: Iterable[Settled]) -> Decimal | None:
    total = weighted = ZERO
    for s in settlements:
        total += s.amount
        weighted += s.amount * _late(s)
    return _round(weighted / total, DAYS) if total else None


def _round(value: Decimal, step: Decimal) -> Decimal:
    return value.quantize(step, rounding=ROUND_HALF_UP)


def _grade(avg: Decimal | None, share: Decimal | None, worst: int) -> str | None:
    if worst > D_OVERDUE_DAYS:
        return "D"
    if avg is None or share is None:
        return None
    if avg <= A_DAYS and share >= A_SHARE:
        return "A"
    if avg <= B_DAYS:
        return "B"
    if avg <= C_DAYS:
        return "C"
    return "D"


def scores(conn: Connection, company_id: int, as_of: dt.date) -> dict[str, Score]:
    """Every active customer's score on ``as_of``, by customer code."""
    start = as_of - dt.timedelta(days=WINDOW_DAYS)
    settled: dict[str, list[Settled]] = {}
    for code, key, amount, due, on in conn.execute(
        select(
            customers.c.code,
            invoices.c.key,
            allocations.c.amount,
            invoices.c.due,
            allocations.c.allocated_on,
        )
        .join(invoices, invoices.c.id == allocations.c.invoice_id)
        .join(customers, customers.c.id == invoices.c.customer_id)
        .where(
            allocations.c.company_id == company_id,
            allocations.c.payment_id.is_not(None),
            allocations.c.allocated_on > start,
            allocations.c.allocated_on <= as_of,
            invoices.c.amount > ZERO,
            invoices.c.closed_run_id.is_(None),
        )
    ):
        settled.setdefault(code, []).append(
            Settled(invoice=key, amount=amount, due=due, settled_on=on)
        )
    owed: dict[str, list[OpenDue]] = {}
    for item in read_open_items(conn, company_id, as_of):
        if item.kind in ("payment", "credit_note") or item.open <= 0:
            continue
        owed.setdefault(item.customer, []).append(
            OpenDue(invoice=item.key, amount=item.open, due=item.due or item.issued)
        )
    codes = conn.execute(
        select(customers.c.code)
        .where(
            customers.c.company_id == company_id,
            customers.c.closed_run_id.is_(None),
        )
        .order_by(customers.c.code)
    ).scalars()
    return {
        code: score(settled.get(code, []), owed.get(code, []), as_of) for code in codes
    }
