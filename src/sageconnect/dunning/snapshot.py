"""Read what the planner needs from the store: debtors, open items, pauses, history."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from operator import attrgetter
from typing import Generic, TypeVar

from sqlalchemy import Connection, bindparam, func, select, text

from sageconnect.dunning.planner import Debtor, Done, Item, Pause
from sageconnect.store.bulk import driver_rows
from sageconnect.store.open_items import ChaseRow, as_date, chase_rows
from sageconnect.store.tables import contacts, customers, pauses, sync_runs

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
    """Everything the planner reads, for a company (or one of its customers).

    The open items are ``open_items``' invoices with something open, read in
    one query with their ids (``chase_rows``); amounts become Decimal here.
    """
    rows = chase_rows(
        conn, company, as_of, customer=customer, pending_days=pending_days
    )
    return Snapshot(
        debtors=_debtors(conn, company, customer),
        items=[item for _, item in _items(rows)],
        pauses=_pauses(conn, company, customer),
        done=[done for _, done in _done(conn, company, customer)],
    )


def snapshots(
    conn: Connection, company: int, as_of: dt.date, *, pending_days: int, size: int
) -> Iterator[Snapshot]:
    """The company's snapshot in parts of ``size`` customers (by id), each with
    their open items, pauses and history: planned part by part, the plan of the
    whole, with memory for one part.

    The open items and the history are each read in one pass, sorted by
    customer by the database, and cut as they come; the customers themselves
    (and their pauses) are read whole, a row each.
    """
    debtors = sorted(_debtors(conn, company, None), key=_ID)
    paused: dict[str, list[Pause]] = defaultdict(list)
    for pause in _pauses(conn, company, None):
        paused[pause.customer].append(pause)
    rows = chase_rows(conn, company, as_of, pending_days=pending_days, by_customer=True)
    items = _Cut(_items(rows))
    done = _Cut(_done(conn, company, None, by_customer=True))
    for start in range(0, len(debtors), size):
        part = debtors[start : start + size]
        last = part[-1].id if start + size < len(debtors) else None
        yield Snapshot(
            debtors=part,
            items=items.upto(last),
            pauses=[p for d in part for p in paused.get(d.code, ())],
            done=done.upto(last),
        )


_ID = attrgetter("id")
T = TypeVar("T")


class _Cut(Generic[T]):
    """(customer id, value) pairs sorted by customer, taken a part at a time."""

    def __init__(self, pairs: Iterator[tuple[int, T]]) -> None:
        self.pairs = pairs
        self.head = next(pairs, None)

    def upto(self, last: int | None) -> list[T]:
        """The values of customers up to ``last`` (None: all that are left)."""
        taken = []
        head, pairs = self.head, self.pairs
        while head is not None and (last is None or head[0] <= last):
            taken.append(head[1])
            head = next(pairs, None)
        self.head = head
        return taken


def _items(rows: Iterator[ChaseRow]) -> Iterator[tuple[int, Item]]:
    """(customer id, Item) of each row; amounts become Decimal here."""
    money = _money
    for id_, key, customer, code, number, issued, due, amount, open_, chase in rows:
        whole = money(amount)  # mostly all of it is open, and all of that to chase
        left = whole if open_ == amount else money(open_)
        to_chase = left if chase == open_ else money(chase)
        # positional, in Item's order: a third of the time of keywords
        yield customer, Item(id_, key, code, number, issued, due, whole, left, to_chase)


def _money(cents: int) -> Decimal:
    """``from_cents``: the amount to the cent (exponent -2), without a division."""
    return Decimal(cents).scaleb(-2)


def _debtors(conn: Connection, company: int, only: str | None) -> list[Debtor]:
    c = customers.c
    query = select(
        c.id,
        c.code,
        c.name,
        c.language,
        c.category,
        c.consumer,
        c.dunning_excluded,
        c.email,
        c.phone,
    ).where(c.company_id == company, c.closed_run_id.is_(None))
    if only:
        query = query.where(c.code == only)
    people = _contacts(conn, company, only)
    result = []
    for (
        id_,
        code,
        name,
        language,
        category,
        consumer,
        excluded,
        email,
        phone,
    ) in conn.execute(query):
        person = people.get(id_)
        result.append(
            Debtor(
                id=id_,
                code=code,
                name=name,
                language=language or "fr",
                category=category,
                consumer=bool(consumer),
                excluded=bool(excluded),
                contact_name=person[0] if person else "",
                email=(person[1] if person and person[1] else email) or "",
                phone=(person[2] if person and person[2] else phone) or "",
            )
        )
    return result


def _contacts(
    conn: Connection, company: int, only: str | None
) -> dict[int, tuple[str, str, str]]:
    """Per customer, the contact to write to: accounting roles first, with an e-mail."""
    best: dict[int, tuple[int, str, str, str]] = {}
    query = (
        select(
            contacts.c.customer_id,
            contacts.c.name,
            contacts.c.role,
            contacts.c.email,
            contacts.c.phone,
        )
        .join(customers, customers.c.id == contacts.c.customer_id)
        .where(
            customers.c.company_id == company,
            customers.c.closed_run_id.is_(None),
            contacts.c.closed_run_id.is_(None),
        )
        .order_by(contacts.c.key)
    )
    if only:
        query = query.where(customers.c.code == only)
    for cust, name, role, email, phone in conn.execute(query):
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


def _done(
    conn: Connection, company: int, only: str | None, *, by_customer: bool = False
) -> Iterator[tuple[int, Done]]:
    """(customer id, step) of the steps that went out (or may have), each
    distinct date parsed once; sorted by customer (see ``chase_rows``)."""
    sql = (
        "SELECT r.customer_id, ri.invoice_id, ri.step, ri.channel, r.planned_on"
        " FROM reminder_items ri JOIN reminders r ON r.id = ri.reminder_id"
        " WHERE r.company_id = :company AND r.state IN :states"
    )
    if only:
        sql += (
            " AND r.customer_id IN (SELECT id FROM customers"
            " WHERE company_id = :company AND code = :customer)"
        )
    if by_customer:  # "+": sorted after a scan, not read in the index's order
        sql += " ORDER BY +r.customer_id"
    query = text(sql).bindparams(bindparam("states", expanding=True))
    params = {"company": company, "states": list(DONE_STATES), "customer": only}
    days: dict[object, dt.date] = {}
    for customer, invoice, step, channel, on in driver_rows(
        conn, query, params, stream=by_customer
    ):
        day = days.get(on)
        if day is None:
            day = days[on] = as_date(on)
        yield customer, Done(invoice, step, channel, day)


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
