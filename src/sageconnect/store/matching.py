"""Keep our matching of unlettered payers in step with the ledger.

Matched allocations (origin ``match:<method>``) are derived, never edited: for
each customer a sync touched they are dropped and computed again from what the
lettering and the source's stated allocations leave open. So the accountant's
lettering wins as soon as it arrives: a lettered credit is no longer ours to
match, and what it settles is no longer open.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, bindparam, delete, text

from sageconnect.ledger.matching import METHODS, Match, OpenCredit, OpenDebit, match
from sageconnect.model.money import from_cents, to_cents
from sageconnect.store.allocations import COLUMNS
from sageconnect.store.bulk import Growth, driver_rows, insert_rows, referenced
from sageconnect.store.open_items import as_date
from sageconnect.store.tables import allocations

CHUNK = 500
PREFIX = "match:"

# What is allocated to each debit is summed per invoice through the index on
# allocations.invoice_id: a join would let PostgreSQL hash all the allocations
# (a scan of the whole table for each chunk of customers, whatever its size).
_DEBITS = """
SELECT * FROM (
SELECT i.customer_id AS customer, i.id AS id, i.number AS number, i.key AS key,
       i.amount - COALESCE((SELECT SUM(a.amount) FROM allocations a
                            WHERE a.invoice_id = i.id
                            AND a.origin NOT LIKE 'match:%'), 0) AS open,
       i.issued AS day, i.due AS due,
       EXISTS (SELECT 1 FROM pauses p WHERE p.invoice_id = i.id
               AND p.kind = 'dispute' AND p.resolved_at IS NULL) AS disputed
FROM invoices i
WHERE i.customer_id IN :customers AND i.amount > 0 AND i.closed_run_id IS NULL
) d WHERE d.open > 0
"""
_NOTES = """
SELECT i.customer_id AS customer, i.id AS id, i.key AS key,
       -i.amount - COALESCE(SUM(a.amount), 0) AS open, i.issued AS day,
       i.number || ' ' || i.label AS words
FROM invoices i
LEFT JOIN allocations a ON a.credit_note_id = i.id AND a.origin NOT LIKE 'match:%'
WHERE i.customer_id IN :customers AND i.amount < 0 AND i.closed_run_id IS NULL
  AND i.lettering IS NULL
GROUP BY i.customer_id, i.id, i.key, i.amount, i.issued, i.number, i.label
HAVING -i.amount - COALESCE(SUM(a.amount), 0) > 0
"""
_PAYMENTS = """
SELECT p.customer_id AS customer, p.id AS id, p.key AS key,
       p.amount - COALESCE(SUM(a.amount), 0) AS open, p.received AS day,
       p.reference || ' ' || p.label AS words
FROM payments p
LEFT JOIN allocations a ON a.payment_id = p.id AND a.origin NOT LIKE 'match:%'
WHERE p.customer_id IN :customers AND p.closed_run_id IS NULL
  AND p.lettering IS NULL AND p.amount > 0
GROUP BY p.customer_id, p.id, p.key, p.amount, p.received, p.reference, p.label
HAVING p.amount - COALESCE(SUM(a.amount), 0) > 0
"""


def rematch(
    conn: Connection,
    company: int,
    customers: Iterable[int],
    methods: Sequence[str] = METHODS,
) -> int:
    """Match again the unlettered payers of ``customers``; return how many matches."""
    wanted = sorted(set(customers))
    total = 0
    if conn.dialect.name == "postgresql" and wanted:
        # each chunk's queries are small, but their estimates (an index lookup
        # per open invoice) pass jit_above_cost: compiling them cost more than
        # running them (about 20 ms a chunk). Till the sync's transaction ends.
        conn.exec_driver_sql("SET LOCAL jit = off")
    growth = Growth(conn, "allocations")  # plans of the next chunks see the rows
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        conn.execute(
            delete(allocations).where(
                allocations.c.origin.like(f"{PREFIX}%"),
                allocations.c.customer_id.in_(chunk),
            )
        )
        if not methods:
            continue
        debits, payers = _open_items(conn, chunk)
        rows = [
            _row(company, customer, m)
            for customer in chunk
            for m in match(debits.get(customer, ()), payers.get(customer, ()), methods)
        ]
        with referenced(conn):  # ids of the open items just read
            insert_rows(conn, "allocations", _COLUMNS, rows)
        growth.wrote(len(rows))
        total += len(rows)
    return total


def _open_items(
    conn: Connection, customers: list[int]
) -> tuple[dict[int, list[OpenDebit]], dict[int, list[OpenCredit]]]:
    """The open debits and the credits left to match of ``customers``.

    Rows as the driver gives them (no per-row type processing): cents made
    Decimal once per distinct amount, each distinct date parsed once.
    """
    days: dict[object, dt.date] = {}
    amounts: dict[int, Decimal] = {}

    def day(value: object) -> dt.date:
        found = days.get(value)
        if found is None:
            found = days[value] = as_date(value)
        return found

    def money(value: Any) -> Decimal:  # an int, or a numeric on PostgreSQL
        cents = int(value)
        found = amounts.get(cents)
        if found is None:
            found = amounts[cents] = from_cents(cents)
        return found

    def run(sql: str) -> Iterable[tuple[Any, ...]]:
        query = text(sql).bindparams(bindparam("customers", expanding=True))
        return driver_rows(conn, query, {"customers": customers})

    debits: dict[int, list[OpenDebit]] = {}
    for customer, id_, number, key, open_, issued, due, disputed in run(_DEBITS):
        debit = OpenDebit(
            id_, number, money(open_), day(issued), day(due), key, bool(disputed)
        )
        debits.setdefault(customer, []).append(debit)
    payers: dict[int, list[OpenCredit]] = {}
    for side, sql in (("credit_note", _NOTES), ("payment", _PAYMENTS)):
        for customer, id_, key, open_, received, words in run(sql):
            credit = OpenCredit(id_, side, key, money(open_), day(received), words)
            payers.setdefault(customer, []).append(credit)
    return debits, payers


# our matches carry no lettering code: the columns of the lettering rebuild but it
_COLUMNS = COLUMNS[:-1]


def _row(company: int, customer: int, m: Match) -> tuple[object, ...]:
    return (
        company,
        customer,
        m.invoice_id,
        m.credit_id if m.credit_side == "payment" else None,
        m.credit_id if m.credit_side == "credit_note" else None,
        to_cents(m.amount),
        m.allocated_on,
        PREFIX + m.method,
    )
