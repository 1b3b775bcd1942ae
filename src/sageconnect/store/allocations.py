"""Keep lettering allocations in step with the items a sync changed.

The allocations are computed in the database, in one statement, as
:func:`sageconnect.ledger.lettering.allocate` would (it stays the reference):
in each lettering group (one customer, one code) the debits and the credits are
laid end to end, each in its order, as intervals of their running sums; a
debit and a credit whose intervals overlap share the overlap. That is what
settling credits on debits oldest first, each time for the smaller of what
remains on either side, allocates.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple

from sqlalchemy import Connection, text

from sageconnect.store.bulk import (
    Growth,
    analyze,
    filling,
    insert_rows,
    temp_table,
    temp_table_as,
)

TOUCHED = "alloc_touched"  # the touched customers, one row each: memory stays flat
CHANGED = "alloc_changed"  # the items a run changed
GROUPS = "alloc_groups"  # the lettering groups (customer, code) a run touched
PREVIOUS = "alloc_previous"  # groups items left: their code before a merge changed it
NAMED = "alloc_named"  # allocations naming a changed item: their groups, customers

COLUMNS = (
    "company_id",
    "customer_id",
    "invoice_id",
    "payment_id",
    "credit_note_id",
    "amount",
    "allocated_on",
    "origin",
    "lettering",
)

# Sides, in allocate's order: debits (invoices), then credit notes before
# payments among credits of the same day. A zero amount settles nothing.
_REFRESH = """
INSERT INTO allocations ({columns})
WITH lettered AS (
  SELECT i.customer_id AS customer, i.lettering AS code, i.id, i.key,
         i.issued AS day, CASE WHEN i.amount > 0 THEN 0 ELSE 1 END AS side,
         ABS(i.amount) AS amount, COALESCE(i.lettered_on, i.issued) AS on_day
  FROM {scope}{join}invoices i
  WHERE i.customer_id = {on_invoices}
    AND i.lettering IS NOT NULL AND i.closed_run_id IS NULL
  UNION ALL
  SELECT p.customer_id, p.lettering, p.id, p.key, p.received, 2, ABS(p.amount),
         COALESCE(p.lettered_on, p.received)
  FROM {scope}{join}payments p
  WHERE p.customer_id = {on_payments}
    AND p.lettering IS NOT NULL AND p.closed_run_id IS NULL
), grouped AS (
  SELECT customer, code, id, key, day, side, amount,
         MAX(on_day) OVER (PARTITION BY customer, code) AS on_day
  FROM lettered
), debits AS (
  SELECT customer, code, id, day, on_day, amount,
         CAST(SUM(amount) OVER (PARTITION BY customer, code
                                ORDER BY day, key{collate}, id
                                ROWS UNBOUNDED PRECEDING) AS BIGINT) AS hi
  FROM grouped WHERE side = 0
), credits AS (
  SELECT customer, code, id, day, side, amount,
         CAST(SUM(amount) OVER (PARTITION BY customer, code
                                ORDER BY day, side, key{collate}, id
                                ROWS UNBOUNDED PRECEDING) AS BIGINT) AS hi
  FROM grouped WHERE side > 0 AND amount > 0
)
SELECT :company, d.customer, d.id,
       CASE WHEN c.side = 2 THEN c.id END, CASE WHEN c.side = 1 THEN c.id END,
       {least}(d.hi, c.hi) - {greatest}(d.hi - d.amount, c.hi - c.amount),
       {greatest}(d.on_day, d.day, c.day), 'lettering', d.code
FROM debits d JOIN credits c
  ON c.customer = d.customer AND c.code = d.code
 AND c.hi - c.amount < d.hi AND d.hi - d.amount < c.hi
ORDER BY d.customer, d.code{collate}, d.hi, c.hi
"""


def refresh(conn: Connection, company: int, touched: list[int] | None = None) -> int:
    """Recompute lettering allocations: of the ``touched`` customers, all their
    groups; without, of the groups :func:`touch` put in GROUPS.

    Returns how many allocations the refreshed groups now have.
    """
    if touched is not None:
        temp_table(conn, TOUCHED, "id INTEGER PRIMARY KEY")
        insert_rows(conn, TOUCHED, ("id",), ((c,) for c in touched))
        analyze(conn, TOUCHED)
        scope, where = f"{TOUCHED} t", f"customer_id IN (SELECT id FROM {TOUCHED})"
        on_invoices, on_payments = "t.id", "t.id"
    else:
        scope = f"{GROUPS} t"
        where = f"(customer_id, lettering) IN (SELECT customer, code FROM {GROUPS})"
        on_invoices = "t.customer AND i.lettering = t.code"
        on_payments = "t.customer AND p.lettering = t.code"
    deleted = conn.exec_driver_sql(
        f"DELETE FROM allocations WHERE origin = 'lettering' AND {where}"
    ).rowcount
    pg = conn.dialect.name == "postgresql"
    sql = _REFRESH.format(
        columns=", ".join(COLUMNS),
        scope=scope,
        # a few groups: each looked up by the items' (customer, lettering) index;
        # SQLite, with no statistics, otherwise read every item of the store and
        # looked it up among the groups (0.09 s a sync with no group at all, on
        # 877 000 items). Whole customers (a first sync): any order.
        join=", " if touched is not None else " CROSS JOIN ",
        on_invoices=on_invoices,
        on_payments=on_payments,
        collate=' COLLATE "C"' if pg else "",  # allocate compares keys as str
        least="LEAST" if pg else "MIN",
        greatest="GREATEST" if pg else "MAX",
    )
    with _small_sorts(conn), filling(conn, "allocations"):
        total = conn.execute(text(sql), {"company": company}).rowcount
    conn.exec_driver_sql(f"DROP TABLE {TOUCHED if touched is not None else GROUPS}")
    Growth(conn, "allocations").wrote(deleted + total)  # the next plans see them
    return total


def start(conn: Connection) -> None:
    """Before a sync's merges: nothing remembered yet (see :func:`remember`)."""
    temp_table(conn, PREVIOUS, "customer INTEGER, code TEXT")


def remember(conn: Connection, hits: str) -> None:
    """As a merge is about to update items (invoices or payments): the lettering
    groups of those whose code or customer it changes, which it overwrites. Such
    a group must be refreshed: its allocations, and the date they take from
    every member (zero amounts too), may change.

    ``hits``: the merge's table of the rows it updates (see
    :func:`sageconnect.store.merge.merge`), which holds each item's customer and
    code before and after: no other look-up of the staged rows in the store.
    """
    differs = "IS DISTINCT FROM" if conn.dialect.name == "postgresql" else "IS NOT"
    conn.exec_driver_sql(
        f"INSERT INTO {PREVIOUS} (customer, code)"
        f" SELECT was_customer_id, was_lettering FROM {hits}"
        f" WHERE was_lettering IS NOT NULL AND (was_lettering {differs} lettering"
        f" OR was_customer_id {differs} customer_ref)"
    )


class Touched(NamedTuple):
    """What a run changed: the customers to match again, and whether the
    lettering groups to refresh are in GROUPS (else: those customers whole)."""

    customers: list[int]
    groups: bool


WHOLE = 0.25  # share of a company's items changed from which customers refresh whole


def touch(conn: Connection, company: int, run: int, *, whole: float = WHOLE) -> Touched:
    """The customers whose items ``run`` changed, or whose allocations name one.

    When the run changed few of the company's items, the lettering groups to
    refresh go to a table of their own (GROUPS): those the changed items are in
    now, and those they were in before (a code changed or removed: PREVIOUS,
    filled by :func:`remember`, and the groups they were allocated in).
    The other groups of the same customers keep their allocations: a group's
    allocations depend on its own open items alone. When it changed many (a
    first sync), the touched customers are refreshed whole, which costs less.
    """
    params = {"company": company, "run": run}
    temp_table(conn, CHANGED, "customer INTEGER, code TEXT, id INTEGER, side INTEGER")
    changed = conn.execute(
        text(
            f"INSERT INTO {CHANGED} (customer, code, id, side)"
            " SELECT customer_id, lettering, id, 0 FROM invoices"
            " WHERE company_id = :company AND changed_run_id = :run"
            " UNION ALL SELECT customer_id, lettering, id, 1 FROM payments"
            " WHERE company_id = :company AND changed_run_id = :run"
        ),
        params,
    ).rowcount
    conn.exec_driver_sql(f"CREATE INDEX ix_{CHANGED} ON {CHANGED} (side, id)")
    analyze(conn, CHANGED)
    temp_table_as(  # the allocations naming a changed item: read once
        conn,
        NAMED,
        "SELECT a.customer_id, a.lettering, a.origin FROM allocations a"
        f" WHERE a.invoice_id IN (SELECT id FROM {CHANGED} WHERE side = 0)"
        " UNION ALL"
        " SELECT a.customer_id, a.lettering, a.origin FROM allocations a"
        f" WHERE a.credit_note_id IN (SELECT id FROM {CHANGED} WHERE side = 0)"
        " UNION ALL"
        " SELECT a.customer_id, a.lettering, a.origin FROM allocations a"
        f" WHERE a.payment_id IN (SELECT id FROM {CHANGED} WHERE side = 1)",
    )
    groups = whole > 0 and _more_items_than(conn, company, changed / whole)
    if groups:
        temp_table(
            conn, GROUPS, "customer INTEGER, code TEXT, PRIMARY KEY (customer, code)"
        )
        conn.exec_driver_sql(
            f"INSERT INTO {GROUPS} (customer, code)"
            f" SELECT customer, code FROM {CHANGED} WHERE code IS NOT NULL"
            f" UNION SELECT customer, code FROM {PREVIOUS}"
            f" UNION SELECT customer_id, lettering FROM {NAMED}"
            " WHERE origin = 'lettering' AND lettering IS NOT NULL"
        )
        analyze(conn, GROUPS)
    customers = conn.exec_driver_sql(  # and those an item left (PREVIOUS)
        f"SELECT customer FROM {CHANGED} UNION SELECT customer FROM {PREVIOUS}"
        f" UNION SELECT customer_id FROM {NAMED} ORDER BY 1"
    ).scalars()
    found = [int(c) for c in customers]
    for table in (CHANGED, PREVIOUS, NAMED):
        conn.exec_driver_sql(f"DROP TABLE {table}")
    return Touched(found, groups)


def _more_items_than(conn: Connection, company: int, bound: float) -> bool:
    """Whether the company has more than ``bound`` items (invoices and
    payments), counted up to that bound only: not all of them each sync."""
    if not bound < 2**62:  # more than any table holds (or not a number)
        return False
    limit = math.floor(bound) + 1
    counted = conn.execute(
        text(
            "SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM invoices"
            " WHERE company_id = :company LIMIT :limit) i)"
            " + (SELECT COUNT(*) FROM (SELECT 1 FROM payments"
            " WHERE company_id = :company LIMIT :limit) p)"
        ),
        {"company": company, "limit": limit},
    ).scalar_one()
    return int(counted) >= limit


SORT_CACHE = -4096  # KiB: what SQLite sorts in memory before it spills to disk


@contextmanager
def _small_sorts(conn: Connection) -> Iterator[None]:
    """On SQLite, each sort of a statement buffers up to the page cache's size (the
    store's 16 MiB) before spilling: the few sorts of the refresh would add that
    many times to the process's memory. A small cache for the statement keeps it
    flat, at no measurable cost; the store's own size is restored after."""
    if conn.dialect.name != "sqlite":
        yield
        return
    size = conn.exec_driver_sql("PRAGMA cache_size").scalar_one()
    conn.exec_driver_sql(f"PRAGMA cache_size = {SORT_CACHE}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size = {int(size)}")
