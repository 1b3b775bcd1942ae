"""Allocations from the source's lettering: which credit settles which debit.

A lettering group ties debits (invoices, debit items) and credits (payments,
credit notes) of one customer. Credits are applied to debits oldest first, each
time for the smaller of what remains on either side, so a group that does not
balance (partial lettering) settles only what it can and never more than
either side's amount.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from itertools import groupby


@dataclass(frozen=True, slots=True)
class Item:
    """One lettered debit or credit; amount is positive on both sides."""

    id: int
    side: str  # "invoice" (debit), "credit_note" or "payment" (credits)
    amount: Decimal
    date: dt.date
    lettering: str
    lettered_on: dt.date | None
    key: str = ""  # the source's key: breaks ties whatever order rows were read in


@dataclass(frozen=True, slots=True)
class Allocation:
    invoice_id: int
    credit_side: str
    credit_id: int
    amount: Decimal
    allocated_on: dt.date
    lettering: str


def allocate(items: Iterable[Item]) -> list[Allocation]:
    """Allocations for every lettering group among ``items`` (one customer)."""
    result: list[Allocation] = []
    ordered = sorted(items, key=lambda i: (i.lettering, i.date, i.side, i.key, i.id))
    for code, group in groupby(ordered, key=lambda i: i.lettering):
        members = list(group)
        debits = [i for i in members if i.side == "invoice"]
        payers = [i for i in members if i.side != "invoice"]
        on = max(
            (i.lettered_on or i.date for i in members),
            default=members[0].date,
        )
        result += _settle(debits, payers, on, code)
    return result


def _settle(
    debits: list[Item], payers: list[Item], on: dt.date, code: str
) -> list[Allocation]:
    out: list[Allocation] = []
    d_left = [d.amount for d in debits]
    c_left = [c.amount for c in payers]
    di = ci = 0
    while di < len(debits) and ci < len(payers):
        amount = min(d_left[di], c_left[ci])
        if amount > 0:
            credit, debit = payers[ci], debits[di]
            day = max(on, debit.date, credit.date)  # never before either item exists
            out.append(Allocation(debit.id, credit.side, credit.id, amount, day, code))
        d_left[di] -= amount
        c_left[ci] -= amount
        if d_left[di] == 0:
            di += 1
        if c_left[ci] == 0:
            ci += 1
    return out
