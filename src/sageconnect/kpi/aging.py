"""The aged balance: what each customer owes, by how late it is. Pure.

Every open item counts with its signed open amount, so a customer's row adds up
to its ledger balance (open invoices less unapplied credits) and the total of
the report to the ledger's receivable balance, to the cent:

- an item owed (open > 0) goes in ``not_due`` when its due date is today or
  later, else in the first bucket whose upper bound holds its days overdue
  (``as_of - due``): with bounds ``(30, 60, 90)`` the buckets are 1-30, 31-60,
  61-90 and over 90;
- a credit not yet applied (a payment or a credit note, open < 0) goes in
  ``unapplied`` (negative): money the customer already gave, not aged.

An item without a due date is aged from its issue date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True, kw_only=True)
class Owed:
    """One open item: an invoice with something owed, or a credit unapplied."""

    customer: str
    name: str
    open: Decimal  # signed: credits negative
    due: dt.date | None
    issued: dt.date


@dataclass(frozen=True, slots=True, kw_only=True)
class AgedRow:
    """One customer's aged balance (or the total, customer ``""``)."""

    customer: str
    name: str
    not_due: Decimal
    buckets: tuple[Decimal, ...]  # one per label of ``bucket_labels`` after not due
    unapplied: Decimal  # <= 0
    total: Decimal  # not_due + buckets + unapplied = the ledger balance

    @property
    def overdue(self) -> Decimal:
        return sum(self.buckets, ZERO)


def bucket_labels(bounds: Sequence[int]) -> list[str]:
    """``(30, 60, 90)`` -> ``["1-30", "31-60", "61-90", "over 90"]``."""
    labels, low = [], 1
    for high in bounds:
        labels.append(f"{low}-{high}")
        low = high + 1
    return [*labels, f"over {bounds[-1]}"]


def bucket_of(days_overdue: int, bounds: Sequence[int]) -> int:
    """The index of the bucket a positive number of days overdue falls in."""
    for n, high in enumerate(bounds):
        if days_overdue <= high:
            return n
    return len(bounds)


def aged_balance(
    items: Iterable[Owed], as_of: dt.date, bounds: Sequence[int]
) -> list[AgedRow]:
    """Per customer with something open, by customer code."""
    rows: dict[str, tuple[str, list[Decimal], list[Decimal]]] = {}
    for item in items:
        if item.open == 0:
            continue
        _, cells, credit = rows.setdefault(
            item.customer, (item.name, [ZERO] * (len(bounds) + 2), [ZERO])
        )
        if item.open < 0:
            credit[0] += item.open
            continue
        late = (as_of - (item.due or item.issued)).days
        cells[0 if late <= 0 else 1 + bucket_of(late, bounds)] += item.open
    return [
        AgedRow(
            customer=code,
            name=name,
            not_due=cells[0],
            buckets=tuple(cells[1:]),
            unapplied=credit[0],
            total=sum(cells, ZERO) + credit[0],
        )
        for code, (name, cells, credit) in sorted(rows.items())
    ]


def total(rows: Sequence[AgedRow], bounds: Sequence[int]) -> AgedRow:
    """The sum of the rows: the company's aged balance."""
    width = len(bounds) + 1
    return AgedRow(
        customer="",
        name="total",
        not_due=sum((r.not_due for r in rows), ZERO),
        buckets=tuple(sum((r.buckets[n] for r in rows), ZERO) for n in range(width)),
        unapplied=sum((r.unapplied for r in rows), ZERO),
        total=sum((r.total for r in rows), ZERO),
    )
