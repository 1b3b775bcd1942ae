"""Does the store say what the source says? Per customer, to the cent.

The source's totals come from the mapper's own ``totals()`` where it has one
(the newest FEC file summed line by line, an ODBC mapping's SUM query), else
from a fresh full read of the source through the mapper, which still catches
a store that incremental syncs let drift. Each customer is checked twice:
store balance = source balance, and sum of its open items = store balance.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Connection

from sageconnect.mapping.protocol import Mapper
from sageconnect.model.records import Customer, Invoice, Payment
from sageconnect.store.open_items import open_items
from sageconnect.store.queries import balances

END_OF_TIME = dt.date(9999, 12, 31)
ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class Difference:
    """A customer where the store and the source, or the store and itself, differ."""

    customer: str
    source: Decimal
    store: Decimal
    open_items: Decimal
    difference: Decimal  # store - source


@dataclass(slots=True)
class Verification:
    method: str  # "source totals" or "full re-read"
    set_aside: Decimal
    customers: int
    source_total: Decimal
    store_total: Decimal
    differences: list[Difference]


@dataclass(slots=True)
class SourceTotals:
    """Per-customer balances from the source, and how they were obtained.

    ``set_aside`` is what a full re-read found for customers the source does
    not list: the sync sets those rows aside (``report rejects``), so they
    explain a gap rather than make one.
    """

    balances: dict[str, Decimal]
    method: str
    set_aside: Decimal = ZERO


def source_totals(mapper: Mapper) -> SourceTotals:
    own = getattr(mapper, "totals", None)
    found = own() if callable(own) else None
    if found is not None:
        return SourceTotals(found, "source totals")
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    reading = mapper.read(None, full=True)
    known: set[str] = set()
    for record in reading.records() if reading is not None else ():
        if isinstance(record, Invoice):
            totals[record.customer] += record.amount
        elif isinstance(record, Payment):
            totals[record.customer] -= record.amount
        elif isinstance(record, Customer):
            known.add(record.code)
    unknown = sum((v for c, v in totals.items() if c not in known), ZERO)
    listed = {c: v for c, v in totals.items() if c in known}
    return SourceTotals(listed, "full re-read", unknown)


def compare(conn: Connection, company: int, source: SourceTotals) -> Verification:
    """Compare the store's balances and open items with the source's."""
    totals = source.balances
    stored = {b.code: b.ledger_balance for b in balances(conn, company, END_OF_TIME)}
    items: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for item in open_items(conn, company, END_OF_TIME):
        items[item.customer] += item.open
    differences = []
    for code in sorted(set(stored) | {c for c, v in totals.items() if v}):
        theirs = totals.get(code, ZERO)
        ours = stored.get(code, ZERO)
        if ours != theirs or items[code] != ours:
            differences.append(
                Difference(code, theirs, ours, items[code], ours - theirs)
            )
    return Verification(
        method=source.method,
        set_aside=source.set_aside,
        customers=len(stored),
        source_total=sum(totals.values(), ZERO),
        store_total=sum(stored.values(), ZERO),
        differences=differences,
    )
