"""Keep lettering allocations in step with the items a sync changed."""

from __future__ import annotations

from sqlalchemy import Connection, delete, select, union

from sageconnect.ledger.lettering import Allocation, Item, allocate
from sageconnect.model.money import to_cents
from sageconnect.store.bulk import Growth, insert_rows
from sageconnect.store.tables import allocations, invoices, payments

CHUNK = 500  # customers per step: memory stays flat however many are touched


def refresh(conn: Connection, company: int, touched: list[int]) -> int:
    """Recompute lettering allocations of the ``touched`` customers.

    Returns how many allocations the touched customers now have.
    """
    total = 0
    growth = Growth(conn, "allocations")  # plans of the next chunks see the rows
    for start in range(0, len(touched), CHUNK):
        chunk = touched[start : start + CHUNK]
        conn.execute(
            delete(allocations).where(
                allocations.c.origin == "lettering",
                allocations.c.customer_id.in_(chunk),
            )
        )
        rows = [
            _row(company, customer, a)
            for customer, items in _lettered_items(conn, chunk)
            for a in allocate(items)
        ]
        insert_rows(conn, "allocations", COLUMNS, rows)
        growth.wrote(len(rows))
        total += len(rows)
    return total


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


def _row(company: int, customer: int, a: Allocation) -> tuple[object, ...]:
    payment = a.credit_side == "payment"
    return (
        company,
        customer,
        a.invoice_id,
        a.credit_id if payment else None,
        None if payment else a.credit_id,
        to_cents(a.amount),
        a.allocated_on,
        "lettering",
        a.lettering,
    )


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


def _lettered_items(
    conn: Connection, customers: list[int]
) -> list[tuple[int, list[Item]]]:
    """The open (not closed) lettered debits and credits of a few customers."""
    by_customer: dict[int, list[Item]] = {c: [] for c in customers}
    for table, day in ((invoices, invoices.c.issued), (payments, payments.c.received)):
        rows = conn.execute(
            select(
                table.c.id,
                table.c.customer_id,
                table.c.amount,
                day,
                table.c.lettering,
                table.c.lettered_on,
                table.c.key,
            ).where(
                table.c.customer_id.in_(customers),
                table.c.lettering.is_not(None),
                table.c.closed_run_id.is_(None),
            )
        )
        for id_, cust, amount, on_day, code, lettered_on, key in rows:
            if table is payments:
                side = "payment"
            else:
                side = "invoice" if amount > 0 else "credit_note"
            item = Item(id_, side, abs(amount), on_day, code, lettered_on, key)
            by_customer[cust].append(item)
    return list(by_customer.items())
