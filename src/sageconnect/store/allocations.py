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

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, select, text, union

from sageconnect.store.bulk import Growth, insert_rows
from sageconnect.store.tables import allocations, invoices, payments

TOUCHED = "alloc_touched"  # the touched customers, one row each: memory stays flat

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
  FROM {touched} t JOIN invoices i ON i.customer_id = t.id
  WHERE i.lettering IS NOT NULL AND i.closed_run_id IS NULL
  UNION ALL
  SELECT p.customer_id, p.lettering, p.id, p.key, p.received, 2, ABS(p.amount),
         COALESCE(p.lettered_on, p.received)
  FROM {touched} t JOIN payments p ON p.customer_id = t.id
  WHERE p.lettering IS NOT NULL AND p.closed_run_id IS NULL
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


def refresh(conn: Connection, company: int, touched: list[int]) -> int:
    """Recompute lettering allocations of the ``touched`` customers.

    Returns how many allocations the touched customers now have.
    """
    pg = conn.dialect.name == "postgresql"
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {TOUCHED}")
    conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {TOUCHED} (id INTEGER PRIMARY KEY)")
    insert_rows(conn, TOUCHED, ("id",), ((c,) for c in touched))
    if pg:
        conn.exec_driver_sql(f"ANALYZE {TOUCHED}")  # temporary: no statistics
    deleted = conn.exec_driver_sql(
        "DELETE FROM allocations WHERE origin = 'lettering'"
        f" AND customer_id IN (SELECT id FROM {TOUCHED})"
    ).rowcount
    sql = _REFRESH.format(
        columns=", ".join(COLUMNS),
        touched=TOUCHED,
        collate=' COLLATE "C"' if pg else "",  # allocate compares keys as str
        least="LEAST" if pg else "MIN",
        greatest="GREATEST" if pg else "MAX",
    )
    with _small_sorts(conn):
        total = conn.execute(text(sql), {"company": company}).rowcount
    conn.exec_driver_sql(f"DROP TABLE {TOUCHED}")
    Growth(conn, "allocations").wrote(deleted + total)  # the next plans see them
    return total


SORT_CACHE = -4096  # KiB: what SQLite sorts in memory before it spills to disk


@contextmanager
def _small_sorts(conn: Connection) -> Iterator[None]:
    """On SQLite, each sort of a statement buffers up to the page cache's size (the
    store's 32 MiB) before spilling: the few sorts of the refresh would add that
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


def touched_customers(conn: Connection, company: int, run: int) -> list[int]:
    changed_inv = select(invoices.c.id).where(
        invoices.c.company_id == company, invoices.c.changed_run_id == run
    )
    changed_pay = select(payments.c.id).where(
        payments.c.company_id == company, payments.c.changed_run_id == run
    )
    query = union(
        select(invoices.c.customer_id).where(
            invoices.c.company_id == company, invoices.c.changed_run_id == run
        ),
        select(payments.c.customer_id).where(
            payments.c.company_id == company, payments.c.changed_run_id == run
        ),
        select(allocations.c.customer_id).where(
            allocations.c.invoice_id.in_(changed_inv)
            | allocations.c.credit_note_id.in_(changed_inv)
            | allocations.c.payment_id.in_(changed_pay)
        ),
    )
    return sorted(conn.execute(query).scalars())  # customers a run changed
