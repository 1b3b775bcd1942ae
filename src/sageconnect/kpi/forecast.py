"""The weekly cash forecast: what should come in over the next weeks. Pure.

Week 1 runs from the Monday of ``as_of``'s week to its Sunday, and so on for
``weeks`` weeks. Each open invoice's amount to chase (open, less bank money
received and not yet booked: that money is already in) is expected on one day:

1. **a promise** on the invoice: its promised day, for the amount promised (or
   all of it; an invoice paid in instalments is one promise over its rows,
   oldest due first); a promise on the whole customer with an amount takes that amount
   from the customer's invoices oldest due first, without an amount all of them;
   a promise is expected on its day, even when the due date is later;
2. **otherwise the payer's habit**: the due date plus the customer's usual lag,
   its amount-weighted average days late over the last 365 days (the payer
   score), rounded to the day; ``default_lag`` for customers without history;
3. an expected day already past is moved to ``as_of`` (week 1) unless the
   invoice is more than ``doubtful_after`` days overdue: then it is ``doubtful``
   and left out of the weeks.

Disputed invoices are left out (``disputed``); what is expected after the last
week is ``later``. So the weeks + later + doubtful + disputed add up to the
amounts to chase.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True, kw_only=True)
class Receivable:
    customer: str
    key: str
    due: dt.date
    amount: Decimal  # to chase, > 0
    disputed: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Promise:
    customer: str
    # the invoice's keys (several for instalments); empty: the whole customer
    invoices: tuple[str, ...] = ()
    until: dt.date
    amount: Decimal | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Week:
    number: int
    start: dt.date
    end: dt.date
    habit: Decimal  # due dates + payer lag
    promised: Decimal
    total: Decimal
    cumulative: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class Forecast:
    weeks: tuple[Week, ...]
    later: Decimal
    doubtful: Decimal
    disputed: Decimal


@dataclass(slots=True)
class _Flows:
    habit: dict[dt.date, Decimal] = field(default_factory=dict)
    promised: dict[dt.date, Decimal] = field(default_factory=dict)
    doubtful: Decimal = ZERO
    disputed: Decimal = ZERO

    def add(self, kind: str, day: dt.date, amount: Decimal) -> None:
        target = self.promised if kind == "promised" else self.habit
        target[day] = target.get(day, ZERO) + amount


def forecast(
    receivables: Iterable[Receivable],
    promises: Sequence[Promise],
    lags: Mapping[str, Decimal | None],
    as_of: dt.date,
    *,
    weeks: int = 13,
    default_lag: int = 0,
    doubtful_after: int = 90,
) -> Forecast:
    """The weekly forecast from ``as_of`` (see the module's docstring)."""
    flows = _Flows()
    by_customer: dict[str, list[Receivable]] = {}
    for r in receivables:
        if r.amount <= 0:
            continue
        if r.disputed:
            flows.disputed += r.amount
            continue
        by_customer.setdefault(r.customer, []).append(r)
    promised: dict[str, list[Promise]] = {}
    for p in promises:
        promised.setdefault(p.customer, []).append(p)
    for code, items in sorted(by_customer.items()):
        lag = lags.get(code)
        days = default_lag if lag is None else int(lag.quantize(1, ROUND_HALF_UP))
        mine = promised.get(code, [])
        for item, left in _after_promises(items, mine, flows, as_of):
            expected = item.due + dt.timedelta(days=days)
            if expected < as_of:
                if (as_of - item.due).days > doubtful_after:
                    flows.doubtful += left
                    continue
                expected = as_of
            flows.add("habit", expected, left)
    return _weeks(flows, as_of, weeks)


def _after_promises(
    items: list[Receivable], promises: list[Promise], flows: _Flows, as_of: dt.date
) -> list[tuple[Receivable, Decimal]]:
    """What promises leave of each item; the promised money goes to its day
    (``as_of`` for a day already past)."""
    left = {r.key: r.amount for r in items}
    for p in sorted(promises, key=lambda p: (not p.invoices, p.until)):
        targets = sorted(
            (r for r in items if not p.invoices or r.key in p.invoices),
            key=lambda r: r.due,
        )
        budget = p.amount
        for r in targets:
            take = left[r.key] if budget is None else min(left[r.key], budget)
            if take <= 0:
                continue
            left[r.key] -= take
            flows.add("promised", max(p.until, as_of), take)
            if budget is not None:
                budget -= take
    return [(r, left[r.key]) for r in items if left[r.key] > 0]


def _weeks(flows: _Flows, as_of: dt.date, count: int) -> Forecast:
    monday = as_of - dt.timedelta(days=as_of.weekday())
    out, running = [], ZERO
    for n in range(count):
        start = monday + dt.timedelta(weeks=n)
        end = start + dt.timedelta(days=6)
        habit = _between(flows.habit, start, end)
        promised = _between(flows.promised, start, end)
        running += habit + promised
        out.append(
            Week(
                number=n + 1,
                start=start,
                end=end,
                habit=habit,
                promised=promised,
                total=habit + promised,
                cumulative=running,
            )
        )
    last = out[-1].end
    later = _between(flows.habit, last + dt.timedelta(days=1), dt.date.max)
    later += _between(flows.promised, last + dt.timedelta(days=1), dt.date.max)
    return Forecast(
        weeks=tuple(out),
        later=later,
        doubtful=flows.doubtful,
        disputed=flows.disputed,
    )


def _between(
    flows: Mapping[dt.date, Decimal], first: dt.date, last: dt.date
) -> Decimal:
    return sum((v for d, v in flows.items() if first <= d <= last), ZERO)
