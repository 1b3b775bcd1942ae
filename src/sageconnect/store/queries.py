"""Read models over the store: what reports and planners need."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Connection, select, text

from sageconnect.model.money import from_cents
from sageconnect.store.tables import companies, rejects


@dataclass(frozen=True, slots=True)
class Balance:
    """Where one customer stands: ledger_balance = open_invoices - unapplied_credits."""

    code: str
    name: str
    ledger_balance: Decimal
    open_invoices: Decimal
    unapplied_credits: Decimal
    overdue: Decimal
    oldest_due: dt.date | None


_BALANCES = """
WITH inv AS (
  SELECT i.customer_id, i.amount, i.due,
         i.amount - COALESCE((SELECT SUM(a.amount) FROM allocations a
                              WHERE a.invoice_id = i.id
                                AND a.allocated_on <= :as_of), 0) AS open_debit,
         -i.amount - COALESCE((SELECT SUM(a.amount) FROM allocations a
                               WHERE a.credit_note_id = i.id
                                 AND a.allocated_on <= :as_of), 0) AS open_credit
  FROM invoices i
  WHERE i.company_id = :company AND i.closed_run_id IS NULL AND i.issued <= :as_of
),
pay AS (
  SELECT p.customer_id, p.amount,
         p.amount - COALESCE((SELECT SUM(a.amount) FROM allocations a
                              WHERE a.payment_id = p.id
                                AND a.allocated_on <= :as_of), 0) AS open_credit
  FROM payments p
  WHERE p.company_id = :company AND p.closed_run_id IS NULL AND p.received <= :as_of
),
per_customer AS (
  SELECT customer_id,
         SUM(amount) AS debit_total,
         SUM(CASE WHEN amount > 0 THEN open_debit ELSE 0 END) AS open_invoices,
         SUM(CASE WHEN amount < 0 THEN open_credit ELSE 0 END) AS open_notes,
         SUM(CASE WHEN amount > 0 AND due < :as_of THEN open_debit ELSE 0 END)
           AS overdue,
         MIN(CASE WHEN amount > 0 AND open_debit > 0 THEN due END) AS oldest_due
  FROM inv GROUP BY customer_id
),
paid AS (
  SELECT customer_id, SUM(amount) AS paid_total, SUM(open_credit) AS open_payments
  FROM pay GROUP BY customer_id
)
SELECT c.code, c.name,
       COALESCE(pc.debit_total, 0) - COALESCE(pd.paid_total, 0) AS ledger_balance,
       COALESCE(pc.open_invoices, 0) AS open_invoices,
       COALESCE(pc.open_notes, 0) + COALESCE(pd.open_payments, 0) AS unapplied,
       COALESCE(pc.overdue, 0) AS overdue,
       pc.oldest_due
FROM customers c
LEFT JOIN per_customer pc ON pc.customer_id = c.id
LEFT JOIN paid pd ON pd.customer_id = c.id
WHERE c.company_id = :company AND c.closed_run_id IS NULL
  {customer_filter}
ORDER BY c.code
"""


def balances(
    conn: Connection, company: int, as_of: dt.date, customer: str | None = None
) -> list[Balance]:
    """Per-customer balances at the end of ``as_of``.

    Only invoices issued, payments received and lettering done by that day
    count; overdue means due strictly before it.
    """
    sql = _BALANCES.format(customer_filter="AND c.code = :customer" if customer else "")
    rows = conn.execute(
        text(sql), {"company": company, "as_of": as_of, "customer": customer}
    )
    return [
        Balance(
            code=code,
            name=name,
            ledger_balance=from_cents(int(balance)),
            open_invoices=from_cents(int(open_inv)),
            unapplied_credits=from_cents(int(unapplied)),
            overdue=from_cents(int(overdue)),
            oldest_due=_as_date(oldest),
        )
        for code, name, balance, open_inv, unapplied, overdue, oldest in rows
    ]


def _as_date(value: object) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


@dataclass(frozen=True, slots=True)
class RejectRow:
    """A row set aside, as the rejects report shows it."""

    file: str
    line: int
    field: str
    value: str
    reason: str
    resolved: bool


def open_rejects(
    conn: Connection, company: int, *, include_resolved: bool = False
) -> list[RejectRow]:
    """Rows set aside for a company, by file and line; resolved ones on request."""
    query = (
        select(
            rejects.c.source,
            rejects.c.line,
            rejects.c.field,
            rejects.c.value,
            rejects.c.reason,
            rejects.c.resolved_run_id.is_not(None),
        )
        .where(rejects.c.company_id == company)
        .order_by(rejects.c.source, rejects.c.line, rejects.c.field)
    )
    if not include_resolved:
        query = query.where(rejects.c.resolved_run_id.is_(None))
    return [RejectRow(*row) for row in conn.execute(query)]


def company_ids(conn: Connection) -> dict[str, int]:
    rows = conn.execute(select(companies.c.code, companies.c.id))
    return {code: id_ for code, id_ in rows}  # noqa: C416 - Row is not a 2-tuple for mypy
