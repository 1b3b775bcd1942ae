"""Keep our matching of unlettered payers in step with the ledger.

Matched allocations (origin ``match:<method>``) are derived, never edited: for
each customer a sync touched they are dropped and computed again from what the
lettering and the source's stated allocations leave open. So the accountant's
lettering wins as soon as it arrives: a lettered credit is no longer ours to
match, and what it settles is no longer open.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, text

from sageconnect.ledger.matching import METHODS, Match, OpenCredit, OpenDebit, match
from sageconnect.model.money import from_cents, to_cents
from sageconnect.store.allocations import COLUMNS
from sageconnect.store.bulk import (
    Growth,
    analyze,
    driver_rows,
    insert_rows,
    referenced,
    temp_table,
    temp_table_as,
)
from sageconnect.store.open_items import as_date

PREFIX = "match:"
SCOPE = "match_scope"  # the customers to match again, one row each
FOUND = "match_found"  # their matches, till the open items are read
FLUSH = 5000  # matches written at a time

# One pass over the whole scope, each query ordered by customer and read as it
# comes: memory holds one customer's items, and the database runs one query
# for all of them, not one per chunk of customers. SQLite is told to go from
# the scope to each customer's items through the customer index (CROSS JOIN
# fixes its join order; PostgreSQL plans it from the scope's statistics):
# one customer costs a few look-ups, not a scan. What is allocated to each
# debit is summed per invoice through the index on allocations.invoice_id.
_DEBITS = """
SELECT * FROM (
SELECT i.customer_id AS customer, i.id AS id, i.number AS number, i.key AS key,
       i.amount - COALESCE((SELECT SUM(a.amount) FROM allocations a
                            WHERE a.invoice_id = i.id
                            AND a.origin NOT LIKE 'match:%'), 0) AS open,
       i.issued AS day, i.due AS due,
       EXISTS (SELECT 1 FROM pauses p WHERE p.invoice_id = i.id
               AND p.kind = 'dispute' AND p.resolved_at IS NULL) AS disputed
FROM match_scope s CROSS JOIN invoices i
WHERE i.customer_id = s.id AND i.amount > 0 AND i.closed_run_id IS NULL
) d WHERE d.open > 0
ORDER BY d.customer
"""
_NOTES = """
SELECT i.customer_id AS customer, i.id AS id, i.key AS key,
       -i.amount - COALESCE(SUM(a.amount), 0) AS open, i.issued AS day,
       i.number || ' ' || i.label AS words
FROM match_scope s CROSS JOIN invoices i
LEFT JOIN allocations a ON a.credit_note_id = i.id AND a.origin NOT LIKE 'match:%'
WHERE i.customer_id = s.id AND i.amount < 0 AND i.closed_run_id IS NULL
  AND i.lettering IS NULL
GROUP BY i.customer_id, i.id, i.key, i.amount, i.issued, i.number, i.label
HAVING -i.amount - COALESCE(SUM(a.amount), 0) > 0
ORDER BY i.customer_id
"""
_PAYMENTS = """
SELECT p.customer_id AS customer, p.id AS id, p.key AS key,
       p.amount - COALESCE(SUM(a.amount), 0) AS open, p.received AS day,
       p.reference || ' ' || p.label AS words
FROM match_scope s CROSS JOIN payments p
LEFT JOIN allocations a ON a.payment_id = p.id AND a.origin NOT LIKE 'match:%'
WHERE p.customer_id = s.id AND p.closed_run_id IS NULL AND p.lettering IS NULL
  AND p.amount > 0
GROUP BY p.customer_id, p.id, p.key, p.amount, p.received, p.reference, p.label
HAVING p.amount - COALESCE(SUM(a.amount), 0) > 0
ORDER BY p.customer_id
"""


def rematch(
    conn: Connection,
    company: int,
    customers: Iterable[int],
    methods: Sequence[str] = METHODS,
) -> int:
    """Match again the unlettered payers of ``customers``; return how many matches."""
    wanted = sorted(set(customers))
    if not wanted:
        return 0
    if conn.dialect.name == "postgresql":
        # the queries are cheap to run but estimated dear (an index lookup per
        # open invoice): compiling them cost more than running them. Till the
        # sync's transaction ends.
        conn.exec_driver_sql("SET LOCAL jit = off")
    temp_table(conn, SCOPE, "id INTEGER PRIMARY KEY")
    insert_rows(conn, SCOPE, ("id",), ((c,) for c in wanted))
    analyze(conn, SCOPE)
    conn.execute(
        text(
            "DELETE FROM allocations WHERE origin LIKE :ours"
            f" AND customer_id IN (SELECT id FROM {SCOPE})"
        ),
        {"ours": f"{PREFIX}%"},
    )
    total = _match_scope(conn, company, methods) if methods else 0
    conn.exec_driver_sql(f"DROP TABLE {SCOPE}")
    Growth(conn, "allocations").wrote(total)  # the next plans see them
    return total


def _match_scope(conn: Connection, company: int, methods: Sequence[str]) -> int:
    """Match each customer of SCOPE; the matches go to allocations at the end
    (not while the open items are read from it)."""
    names = ", ".join(_COLUMNS)
    # the columns of allocations, as the store types them
    temp_table_as(conn, FOUND, f"SELECT {names} FROM allocations WHERE 1 = 0")
    total = 0
    rows: list[tuple[object, ...]] = []
    for customer, debits, payers in _open_items(conn):
        rows += (_row(company, customer, m) for m in match(debits, payers, methods))
        if len(rows) >= FLUSH:
            insert_rows(conn, FOUND, _COLUMNS, rows)
            total += len(rows)
            rows = []
    insert_rows(conn, FOUND, _COLUMNS, rows)
    total += len(rows)
    with referenced(conn):  # ids of the open items just read
        conn.exec_driver_sql(
            f"INSERT INTO allocations ({names}) SELECT {names} FROM {FOUND}"
        )
    conn.exec_driver_sql(f"DROP TABLE {FOUND}")
    return total


def _open_items(
    conn: Connection,
) -> Iterator[tuple[int, list[OpenDebit], list[OpenCredit]]]:
    """Each customer of SCOPE with open debits or credits left to match, in
    customer order: its open debits and its credits.

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

    def run(sql: str) -> _Grouped:
        return _Grouped(driver_rows(conn, text(sql), {}, stream=True))

    debits, notes, payments = run(_DEBITS), run(_NOTES), run(_PAYMENTS)
    while (customer := min(debits.head, notes.head, payments.head)) < _END:
        owed = [
            OpenDebit(id_, number, money(open_), day(issued), day(due), key, bool(d))
            for _, id_, number, key, open_, issued, due, d in debits.take(customer)
        ]
        payers = [
            OpenCredit(id_, side, key, money(open_), day(received), words)
            for side, grouped in (("credit_note", notes), ("payment", payments))
            for _, id_, key, open_, received, words in grouped.take(customer)
        ]
        yield customer, owed, payers


_END = 1 << 63  # past any row id


class _Grouped:
    """Rows ordered by their first column (a customer), taken a customer at a time."""

    def __init__(self, rows: Iterator[tuple[Any, ...]]) -> None:
        self.rows = rows
        self.next: tuple[Any, ...] | None = next(rows, None)

    @property
    def head(self) -> int:
        """The next customer, or _END."""
        return _END if self.next is None else int(self.next[0])

    def take(self, customer: int) -> list[tuple[Any, ...]]:
        """The rows of ``customer`` (none unless it is next)."""
        taken: list[tuple[Any, ...]] = []
        while self.next is not None and self.next[0] == customer:
            taken.append(self.next)
            self.next = next(self.rows, None)
        return taken


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
