"""Open items: what is still owed on each invoice, and what each customer has unapplied.

Every figure is as of the end of a day: only documents issued, payments
received, allocations made and bank lines booked by then count. A bank credit
matched to an invoice makes it *paid pending* for ``pending_days`` after its
booking, until the accountant's entry arrives: ``to_chase`` is what is open and
not covered by such money, the amount a reminder may ask for.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Generator
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import Connection, Date, text

from sageconnect.store.bulk import driver_rows
from sageconnect.store.tables import Cents

CENT = Decimal("0.01")
ORIGINS = ("lettering", "source", "match:reference", "match:amount", "match:oldest")
PENDING_DAYS = 10  # how long bank money pauses reminders before it must be booked


@dataclass(frozen=True, slots=True)
class OpenItem:
    """One invoice with something open, or one credit with something unapplied."""

    customer: str
    customer_name: str
    key: str  # the source's key
    kind: str  # invoice, debit, opening, credit_note, payment
    number: str
    issued: dt.date
    due: dt.date | None
    amount: Decimal  # signed: credits negative
    open: Decimal  # signed: what is still open of ``amount``
    pending: Decimal  # bank money received for it, not yet booked (>= 0)
    to_chase: Decimal  # open - pending, never below 0 (0 for credits)
    currency: str
    open_currency: Decimal | None  # ``open`` in the document's currency
    days_overdue: int
    settled_by: str  # how what is settled was settled: lettering, source, match:*


_ITEMS = """
WITH alloc AS (
  SELECT invoice_id AS item, 'invoice' AS side, amount, origin FROM allocations
  WHERE company_id = :company AND allocated_on <= :as_of
  UNION ALL
  SELECT credit_note_id, 'invoice', amount, origin FROM allocations
  WHERE company_id = :company AND allocated_on <= :as_of
    AND credit_note_id IS NOT NULL
  UNION ALL
  SELECT payment_id, 'payment', amount, origin FROM allocations
  WHERE company_id = :company AND allocated_on <= :as_of AND payment_id IS NOT NULL
),
settled AS (
  SELECT item, side, SUM(amount) AS amount,
         {origin_flags}
  FROM alloc GROUP BY item, side
),
pending AS (
  SELECT m.invoice_id, SUM(m.amount) AS amount
  FROM bank_matches m JOIN bank_lines l ON l.id = m.bank_line_id
  WHERE m.company_id = :company AND l.status IN ('matched', 'partial')
    AND l.booked <= :as_of AND l.booked >= :since
  GROUP BY m.invoice_id
)
SELECT c.code AS customer, c.name AS customer_name, i.key AS key, i.kind AS kind,
       i.number AS number, i.issued AS issued, i.due AS due, i.amount AS amount,
       CASE WHEN i.amount > 0 THEN i.amount - COALESCE(s.amount, 0)
            ELSE i.amount + COALESCE(s.amount, 0) END AS open,
       COALESCE(p.amount, 0) AS pending, i.currency AS currency,
       i.currency_amount AS currency_amount, {origin_columns}
FROM invoices i
JOIN customers c ON c.id = i.customer_id
LEFT JOIN settled s ON s.item = i.id AND s.side = 'invoice'
LEFT JOIN pending p ON p.invoice_id = i.id
WHERE i.company_id = :company AND i.closed_run_id IS NULL AND i.issued <= :as_of
  {customer_filter}
UNION ALL
SELECT c.code, c.name, py.key, 'payment', CASE WHEN py.reference <> '' THEN py.reference
       ELSE py.key END, py.received, NULL, -py.amount,
       -py.amount + COALESCE(s.amount, 0), 0, py.currency,
       -py.currency_amount, {origin_columns}
FROM payments py
JOIN customers c ON c.id = py.customer_id
LEFT JOIN settled s ON s.item = py.id AND s.side = 'payment'
WHERE py.company_id = :company AND py.closed_run_id IS NULL
  AND py.received <= :as_of
  {customer_filter}
"""


def open_items(
    conn: Connection,
    company: int,
    as_of: dt.date,
    *,
    customer: str | None = None,
    pending_days: int = PENDING_DAYS,
) -> list[OpenItem]:
    """Items with something open at the end of ``as_of``, by customer and due date."""
    sql = _ITEMS.format(
        customer_filter="AND c.code = :customer" if customer else "",
        origin_flags=", ".join(
            f"MAX(CASE WHEN origin = '{o}' THEN 1 ELSE 0 END) AS o{n}"
            for n, o in enumerate(ORIGINS)
        ),
        origin_columns=", ".join(f"s.o{n} AS o{n}" for n in range(len(ORIGINS))),
    )
    query = text(sql).columns(
        issued=Date,
        due=Date,
        amount=Cents,
        open=Cents,
        pending=Cents,
        currency_amount=Cents,
    )
    params = {
        "company": company,
        "as_of": as_of,
        "since": as_of - dt.timedelta(days=pending_days),
        "customer": customer,
    }
    items = [_item(row, as_of) for row in conn.execute(query, params) if row.open != 0]
    return sorted(
        items,
        key=lambda i: (i.customer, i.due or i.issued, i.issued, i.number),
    )


def _item(r: Any, as_of: dt.date) -> OpenItem:
    open_: Decimal = r.open
    amount: Decimal = r.amount
    pending = min(r.pending, open_) if open_ > 0 else Decimal("0.00")
    open_currency = (
        (r.currency_amount * open_ / amount).quantize(CENT, ROUND_HALF_EVEN)
        if r.currency_amount is not None and amount
        else None
    )
    due: dt.date | None = r.due
    return OpenItem(
        customer=r.customer,
        customer_name=r.customer_name,
        key=r.key,
        kind=r.kind,
        number=r.number,
        issued=r.issued,
        due=due,
        amount=amount,
        open=open_,
        pending=pending,
        to_chase=max(open_ - pending, Decimal("0.00")),
        currency=r.currency,
        open_currency=open_currency,
        days_overdue=max((as_of - due).days, 0) if due and open_ > 0 else 0,
        settled_by="+".join(o for n, o in enumerate(ORIGINS) if getattr(r, f"o{n}")),
    )


_CHASED = """
WITH settled AS (
  SELECT item, SUM(amount) AS amount FROM (
    SELECT invoice_id AS item, amount FROM allocations
    WHERE {unindexed}company_id = :company AND allocated_on <= :as_of {alloc_filter}
    UNION ALL
    SELECT credit_note_id, amount FROM allocations
    WHERE {unindexed}company_id = :company AND allocated_on <= :as_of
      AND credit_note_id IS NOT NULL {note_filter}
  ) a GROUP BY item
),
pending AS (
  SELECT m.invoice_id, SUM(m.amount) AS amount
  FROM bank_matches m JOIN bank_lines l ON l.id = m.bank_line_id
  WHERE {unindexed}m.company_id = :company AND l.status IN ('matched', 'partial')
    AND l.booked <= :as_of AND l.booked >= :since {match_filter}
  GROUP BY m.invoice_id
)
SELECT i.id, i.key, i.customer_id, {part}, i.number, i.issued, i.due, i.amount,
       CASE WHEN i.amount > 0 THEN i.amount - COALESCE(s.amount, 0)
            ELSE i.amount + COALESCE(s.amount, 0) END,
       COALESCE(p.amount, 0)
FROM invoices i
{parts_join}
LEFT JOIN settled s ON s.item = i.id
LEFT JOIN pending p ON p.invoice_id = i.id
WHERE {unindexed}i.company_id = :company AND i.closed_run_id IS NULL
  AND i.issued <= :as_of {customer_filter}
"""
_OF_CUSTOMER = """IN (SELECT i.id FROM customers c
  JOIN invoices i ON i.customer_id = c.id
  WHERE c.company_id = :company AND c.code = :customer AND +i.company_id = :company)"""

# (invoice id, key, part, customer code, number, issued, due, amount, open,
# to_chase), amounts in integer cents; part: see chase_rows
ChaseRow = tuple[int, str, int, str, str, dt.date, dt.date, int, int, int]


def chase_rows(
    conn: Connection,
    company: int,
    as_of: dt.date,
    *,
    customer: str | None = None,
    parts: str | None = None,
    pending_days: int = PENDING_DAYS,
) -> Generator[ChaseRow, None, None]:
    """The invoices ``open_items`` lists with something open (``open`` > 0), as
    the dunning planner reads them: its figures, amounts in integer cents, the
    invoice's id, of the company or of one ``customer`` (code). One query; no
    per-row object but the tuple, each distinct date parsed once.

    In no particular order (part 0), or with ``parts``, a table of (customer_id,
    part): those customers' invoices alone, each with its customer's part,
    sorted by part by the database and read as they come (a server-side cursor
    on PostgreSQL), so that memory does not follow the ledger.
    """
    of = _OF_CUSTOMER if customer and not parts else ""
    # One customer's read keeps the company's filter but not as an index (unary
    # +): without statistics (a store the sync has not analysed yet) SQLite
    # went through the (company_id, key) indexes, every invoice and allocation
    # of the company for each customer; the customer's code, then the invoice
    # and credit-note indexes, find its rows.
    sql = _CHASED.format(
        unindexed="+" if of else "",
        customer_filter=f"AND i.id {of}" if of else "",
        alloc_filter=f"AND invoice_id {of}" if of else "",
        note_filter=f"AND credit_note_id {of}" if of else "",
        match_filter=f"AND m.invoice_id {of}" if of else "",
        part="pt.part" if parts else "0",
        parts_join=f"JOIN {parts} pt ON pt.customer_id = i.customer_id"
        if parts
        else "",
    )
    if parts:
        sql += "ORDER BY pt.part"
    params = {
        "company": company,
        "as_of": as_of,
        "since": as_of - dt.timedelta(days=pending_days),
        "customer": customer,
    }
    days: dict[object, dt.date] = {}
    codes = _codes(conn, company, customer)  # cheaper than a join on each row
    rows = driver_rows(conn, text(sql), params, stream=bool(parts))
    try:
        for id_, key, cust, part, number, issued, due, amount, open_, pending in rows:
            if open_ <= 0:
                continue
            first = days.get(issued)
            if first is None:
                first = days[issued] = as_date(issued)
            last = days.get(due)
            if last is None:
                last = days[due] = as_date(due)
            # pending counts up to what is open: to_chase = open - min(pending, open)
            chase = open_ - pending if open_ > pending else 0
            yield (
                id_,
                key,
                part,
                codes[cust],
                number,
                first,
                last,
                int(amount),
                int(open_),
                int(chase),
            )
    finally:
        rows.close()  # a cursor not read to the end (a server-side one) too


def _codes(conn: Connection, company: int, customer: str | None) -> dict[int, str]:
    """The company's customer codes by id (the one ``customer``'s, if given)."""
    sql = "SELECT id, code FROM customers WHERE company_id = :company"
    if customer:
        sql += " AND code = :customer"
    found = conn.execute(text(sql), {"company": company, "customer": customer})
    return {int(id_): str(code) for id_, code in found}


def as_date(value: object) -> dt.date:
    """A date as the driver returns it: a date (PostgreSQL), ISO text (SQLite)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))
