"""Bank statement lines in the store: kept once each, matched, then seen booked.

A line's life: ``unmatched`` (tried again at every run, since its invoice may
arrive later), ``matched`` or ``partial`` (its invoices are paid pending),
``booked`` once the accountant's entry is in the ledger (a payment of the same
amount for the same customer, or its invoices no longer open), ``ignored`` for
money out and reversals.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Date, bindparam, insert, select, text, update

from sageconnect.bank.lines import BankLine
from sageconnect.ledger.bank_match import Credit, Invoice, match_credit
from sageconnect.store.tables import Cents, bank_lines, bank_matches, invoices

BOOKED_BEFORE = dt.timedelta(days=5)  # an entry dated a little before the bank's day


@dataclass(slots=True)
class BankCounts:
    """What one read of the statement folder did; the fields of bank_read."""

    read: int = 0
    new: int = 0
    matched: int = 0
    unmatched: int = 0
    booked: int = 0


def store_lines(
    conn: Connection, company: int, run: int, lines: Iterable[BankLine]
) -> BankCounts:
    """Insert the lines not seen before (by key); match every open credit line."""
    counts = BankCounts()
    known = set(
        conn.execute(
            select(bank_lines.c.key).where(bank_lines.c.company_id == company)
        ).scalars()
    )
    rows = []
    for line in lines:
        counts.read += 1
        if line.key in known:
            continue
        known.add(line.key)
        money_in = line.is_credit
        rows.append(
            {
                "company_id": company,
                "key": line.key,
                "source": line.source,
                "line": line.line,
                "account": line.account,
                "booked": line.booked,
                "value_date": line.value_date,
                "amount": line.amount,
                "currency": line.currency,
                "payer_name": line.payer_name,
                "payer_account": line.payer_account,
                "remittance": line.remittance,
                "structured_ref": line.structured_ref,
                "end_to_end_id": line.end_to_end_id,
                "bank_ref": line.bank_ref,
                "label": line.label,
                "booked_status": line.booked_status,
                "reversal": line.reversal,
                "status": "unmatched" if money_in else "ignored",
                "reason": "" if money_in else "money out or a reversal",
                "first_run_id": run,
            }
        )
    if rows:
        conn.execute(insert(bank_lines), rows)
    counts.new = len(rows)
    counts.booked = _mark_booked(conn, company)
    counts.matched, counts.unmatched = _match(conn, company)
    return counts


_OPEN = """
SELECT i.id AS id, c.code AS customer, c.name AS customer_name, i.number AS number,
       i.due AS due,
       i.amount - COALESCE((SELECT SUM(a.amount) FROM allocations a
                            WHERE a.invoice_id = i.id), 0)
       - COALESCE((SELECT SUM(m.amount) FROM bank_matches m
                   JOIN bank_lines l ON l.id = m.bank_line_id
                   WHERE m.invoice_id = i.id
                     AND l.status IN ('matched', 'partial')), 0) AS open
FROM invoices i JOIN customers c ON c.id = i.customer_id
WHERE i.company_id = :company AND i.closed_run_id IS NULL AND i.amount > 0
"""


def _match(conn: Connection, company: int) -> tuple[int, int]:
    """Match the unmatched credit lines, oldest first; return (matched, left)."""
    waiting = conn.execute(
        select(bank_lines)
        .where(bank_lines.c.company_id == company, bank_lines.c.status == "unmatched")
        .order_by(bank_lines.c.booked, bank_lines.c.id)
    ).all()
    if not waiting:
        return 0, 0
    query = text(_OPEN).columns(open=Cents, due=Date)
    invoices = {
        r.id: Invoice(r.id, r.customer, r.customer_name, r.number, r.open, r.due)
        for r in conn.execute(query, {"company": company})
    }
    matched = 0
    for line in waiting:
        credit = Credit(
            line.amount,
            line.payer_name,
            line.structured_ref,
            f"{line.remittance} {line.label}",
        )
        outcome = match_credit(credit, list(invoices.values()))
        _save(conn, company, line, outcome.status, outcome.reason)
        for invoice_id, amount in outcome.pays:
            conn.execute(
                insert(bank_matches).values(
                    company_id=company,
                    bank_line_id=line.id,
                    invoice_id=invoice_id,
                    amount=amount,
                    method=outcome.method,
                )
            )
            was = invoices[invoice_id]
            invoices[invoice_id] = Invoice(
                was.id,
                was.customer,
                was.customer_name,
                was.number,
                was.open - amount,
                was.due,
            )
        matched += bool(outcome.pays)
    return matched, len(waiting) - matched


def _save(conn: Connection, company: int, line: Any, status: str, reason: str) -> None:
    conn.execute(
        update(bank_lines)
        .where(bank_lines.c.company_id == company, bank_lines.c.id == line.id)
        .values(status=status, reason=reason)
    )


_BOOKED = """
SELECT l.id AS id, l.amount AS amount, l.booked AS booked,
  (SELECT COUNT(*) FROM bank_matches m JOIN invoices i ON i.id = m.invoice_id
   WHERE m.bank_line_id = l.id AND i.closed_run_id IS NULL
     AND i.amount - COALESCE((SELECT SUM(a.amount) FROM allocations a
                              WHERE a.invoice_id = i.id), 0) > 0) AS still_open
FROM bank_lines l
WHERE l.company_id = :company AND l.status IN ('matched', 'partial')
"""
_PAYMENT = """
SELECT p.received FROM payments p
WHERE p.company_id = :company AND p.closed_run_id IS NULL AND p.amount = :amount
  AND p.customer_id IN (SELECT i.customer_id FROM bank_matches m
                        JOIN invoices i ON i.id = m.invoice_id
                        WHERE m.bank_line_id = :line)
"""


def _mark_booked(conn: Connection, company: int) -> int:
    """Lines the ledger has caught up with; their invoices are no longer pending."""
    query = text(_BOOKED).columns(amount=Cents, booked=Date)
    booked = [
        line.id
        for line in conn.execute(query, {"company": company})
        if line.still_open == 0 or _entry_found(conn, company, line)
    ]
    if booked:
        conn.execute(
            update(bank_lines)
            .where(bank_lines.c.id.in_(booked))
            .values(status="booked", reason="")
        )
    return len(booked)


def _entry_found(conn: Connection, company: int, line: Any) -> bool:
    """A receipt of this amount for the same customer, from about the bank's day."""
    query = (
        text(_PAYMENT)
        .bindparams(bindparam("amount", type_=Cents))
        .columns(received=Date)
    )
    params = {"company": company, "amount": line.amount, "line": line.id}
    return any(
        day >= line.booked - BOOKED_BEFORE
        for day in conn.execute(query, params).scalars()
    )


@dataclass(frozen=True, slots=True)
class BankRow:
    """A statement line as the bank report shows it."""

    booked: dt.date
    amount: Decimal
    payer: str
    remittance: str
    status: str
    invoices: str
    reason: str
    file: str
    line: int


def bank_report(
    conn: Connection, company: int, *, everything: bool = False
) -> list[BankRow]:
    """Credit lines waiting for a match (all lines with ``everything``), by date."""
    query = select(bank_lines).where(bank_lines.c.company_id == company)
    if not everything:
        query = query.where(bank_lines.c.status.in_(("unmatched", "partial")))
    paid: dict[int, list[str]] = {}
    for line_id, number in conn.execute(
        select(bank_matches.c.bank_line_id, invoices.c.number)
        .join(invoices, invoices.c.id == bank_matches.c.invoice_id)
        .where(bank_matches.c.company_id == company)
        .order_by(invoices.c.number)
    ):
        paid.setdefault(line_id, []).append(number)
    return [
        BankRow(
            booked=r.booked,
            amount=r.amount,
            payer=r.payer_name,
            remittance=" ".join(x for x in (r.structured_ref, r.remittance) if x),
            status=r.status,
            invoices=" ".join(paid.get(r.id, [])),
            reason=r.reason,
            file=r.source,
            line=r.line,
        )
        for r in conn.execute(query.order_by(bank_lines.c.booked, bank_lines.c.id))
    ]
