"""Read what the planner needs from the store: debtors, open items, pauses, history."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from sageconnect.dunning.planner import Debtor, Done, Item, Pause
from sageconnect.store.open_items import open_items
from sageconnect.store.tables import (
    contacts,
    customers,
    invoices,
    pauses,
    reminder_items,
    reminders,
    sync_runs,
)

DONE_STATES = ("claimed", "sent", "uncertain")  # may have reached the customer
OPEN_ROLES = ("compta", "relance", "factur", "recouvr", "account", "paya", "financ")


@dataclass(slots=True)
class Snapshot:
    debtors: list[Debtor]
    items: list[Item]
    pauses: list[Pause]
    done: list[Done]


def snapshot(
    conn: Connection,
    company: int,
    as_of: dt.date,
    *,
    pending_days: int,
    customer: str | None = None,
) -> Snapshot:
    """Everything the planner reads, for a company (or one of its customers)."""
    owed = [
        o
        for o in open_items(
            conn, company, as_of, customer=customer, pending_days=pending_days
        )
        if o.kind != "payment" and o.open > 0 and o.due is not None
    ]
    ids = _invoice_ids(conn, company, [o.key for o in owed])
    items = [
        Item(
            invoice_id=ids[o.key],
            key=o.key,
            customer=o.customer,
            number=o.number,
            issued=o.issued,
            due=o.due or o.issued,  # invoices always have one
            amount=o.amount,
            open=o.open,
            to_chase=o.to_chase,
        )
        for o in owed
    ]
    return Snapshot(
        debtors=_debtors(conn, company, customer),
        items=items,
        pauses=_pauses(conn, company, customer),
        done=_done(conn, company, customer),
    )


def _invoice_ids(conn: Connection, company: int, keys: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(keys), 500):
        rows = conn.execute(
            select(invoices.c.key, invoices.c.id).where(
                invoices.c.company_id == company,
                invoices.c.key.in_(keys[start : start + 500]),
            )
        )
        found.update({key: id_ for key, id_ in rows})  # noqa: C416 - Row typing
    return found


def _debtors(conn: Connection, company: int, only: str | None) -> list[Debtor]:
    query = select(customers).where(
        customers.c.company_id == company, customers.c.closed_run_id.is_(None)
    )
    if only:
        query = query.where(customers.c.code == only)
    rows = conn.execute(query).all()
    people = _contacts(conn, [r.id for r in rows])
    result = []
    for r in rows:
        person = people.get(r.id)
        result.append(
            Debtor(
                id=r.id,
                code=r.code,
                name=r.name,
                language=r.language or "fr",
                category=r.category,
                consumer=bool(r.consumer),
                excluded=bool(r.dunning_excluded),
                contact_name=person[0] if person else "",
                email=(person[1] if person and person[1] else r.email) or "",
                phone=(person[2] if person and person[2] else r.phone) or "",
            )
        )
    return result


def _contacts(
    conn: Connection, customer_ids: list[int]
) -> dict[int, tuple[str, str, str]]:
    """Per customer, the contact to write to: accounting roles first, with an e-mail."""
    best: dict[int, tuple[int, str, str, str]] = {}
    for start in range(0, len(customer_ids), 500):
        rows = conn.execute(
            select(
                contacts.c.customer_id,
                contacts.c.key,
                contacts.c.name,
                contacts.c.role,
                contacts.c.email,
                contacts.c.phone,
            )
            .where(
                contacts.c.customer_id.in_(customer_ids[start : start + 500]),
                contacts.c.closed_run_id.is_(None),
            )
            .order_by(contacts.c.key)
        )
        for cust, _, name, role, email, phone in rows:
            rank = (0 if any(r in role.lower() for r in OPEN_ROLES) else 1) + (
                0 if email else 2
            )
            if cust not in best or rank < best[cust][0]:
                best[cust] = (rank, name, email or "", phone or "")
    return {c: v[1:] for c, v in best.items()}


def _pauses(conn: Connection, company: int, only: str | None) -> list[Pause]:
    query = (
        select(
            pauses.c.kind,
            customers.c.code,
            pauses.c.invoice_id,
            pauses.c.until,
            pauses.c.reason,
        )
        .join(customers, customers.c.id == pauses.c.customer_id)
        .where(pauses.c.company_id == company, pauses.c.resolved_at.is_(None))
    )
    if only:
        query = query.where(customers.c.code == only)
    return [
        Pause(kind=k, customer=c, invoice_id=i, until=u, reason=r)
        for k, c, i, u, r in conn.execute(query)
    ]


def _done(conn: Connection, company: int, only: str | None) -> list[Done]:
    query = (
        select(
            reminder_items.c.invoice_id,
            reminder_items.c.step,
            reminder_items.c.channel,
            reminders.c.planned_on,
        )
        .join(reminders, reminders.c.id == reminder_items.c.reminder_id)
        .where(reminders.c.company_id == company, reminders.c.state.in_(DONE_STATES))
    )
    if only:
        query = query.join(customers, customers.c.id == reminders.c.customer_id).where(
            customers.c.code == only
        )
    return [Done(i, s, c, d) for i, s, c, d in conn.execute(query)]


def last_good_sync(conn: Connection, company: int) -> dt.datetime | None:
    """When the company's last successful sync finished (for the freshness guard)."""
    value = conn.execute(
        select(func.max(sync_runs.c.finished_at)).where(
            sync_runs.c.company_id == company,
            sync_runs.c.status.in_(("completed", "completed_with_rejects")),
        )
    ).scalar()
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)  # SQLite returns naive UTC
    return value
