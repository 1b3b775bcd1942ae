"""Read what the planner needs from the store: debtors, open items, pauses, history."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Generator
from dataclasses import dataclass
from decimal import Decimal
from operator import attrgetter
from typing import Generic, TypeVar

from sqlalchemy import Connection, bindparam, func, select, text

from sageconnect.dunning.planner import Debtor, Done, Item, Pause
from sageconnect.store.bulk import analyze, driver_rows, insert_rows, temp_table
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


PARTS = "dunning_parts"  # (customer_id, part): the parts of snapshots, by code


def snapshots(
    conn: Connection, company: int, as_of: dt.date, *, pending_days: int, size: int
) -> Generator[Snapshot, None, None]:
    """The company's snapshot in parts of ``size`` customers, in the order of
    their codes, each with their open items, pauses and history: planned part
    by part, the plan of the whole, in the same order, with memory for one part.

    The customers (and their pauses) are read whole, a row each, and cut into
    parts; the open items and the history are each read in one pass, sorted by
    part by the database (a temporary table gives each customer its part), and
    cut as they come. Read in the caller's transaction: one view of the store.
    """
    debtors = sorted(_debtors(conn, company, None), key=_CODE)  # as plan() sorts
    if not debtors:
        return
    paused: dict[str, list[Pause]] = defaultdict(list)
    for pause in _pauses(conn, company, None):
        paused[pause.customer].append(pause)
    parts = [debtors[start : start + size] for start in range(0, len(debtors), size)]
    temp_table(conn, PARTS, "customer_id INTEGER PRIMARY KEY, part INTEGER NOT NULL")
    insert_rows(
        conn,
        PARTS,
        ("customer_id", "part"),
        ((d.id, n) for n, part in enumerate(parts) for d in part),
    )
    analyze(conn, PARTS)
    rows = chase_rows(conn, company, as_of, pending_days=pending_days, parts=PARTS)
    items = _Cut(_items(rows))
    done = _Cut(_done(conn, company, None, parts=PARTS))
    try:
        for n, part in enumerate(parts):
            yield Snapshot(
                debtors=part,
                items=items.upto(n),
                pauses=[p for d in part for p in paused.get(d.code, ())],
                done=done.upto(n),
            )
    finally:  # the cursors first: PostgreSQL drops no table a cursor reads
        items.close()
        done.close()
        conn.exec_driver_sql(f"DROP TABLE {PARTS}")


_CODE = attrgetter("code")
T = TypeVar("T")


class _Cut(Generic[T]):
    """(part, value) pairs sorted by part, taken a part at a time."""

    def __init__(self, pairs: Generator[tuple[int, T], None, None]) -> None:
        self.pairs = pairs
        self.head = next(pairs, None)

    def upto(self, part: int) -> list[T]:
        """The values of the parts up to ``part``."""
        taken = []
        head, pairs = self.head, self.pairs
        while head is not None and head[0] <= part:
            taken.append(head[1])
            head = next(pairs, None)
        self.head = head
        return taken

    def close(self) -> None:
        """Stop reading (the query's cursor is closed)."""
        self.pairs.close()


def _items(
    rows: Generator[ChaseRow, None, None],
) -> Generator[tuple[int, Item], None, None]:
    """(part, Item) of each row; amounts become Decimal here."""
    money = _money
    try:
        for id_, key, part, code, number, issued, due, amount, open_, chase in rows:
            whole = money(amount)  # mostly all of it open, and all of that to chase
            left = whole if open_ == amount else money(open_)
            to_chase = left if chase == open_ else money(chase)
            # positional, in Item's order: a third of the time of keywords
            yield part, Item(id_, key, code, number, issued, due, whole, left, to_chase)
    finally:
        rows.close()


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
        .where(pauses.c.resolved_at.is_(None))
    )
    if only:  # by its code, not through the company's rows (see chase_rows)
        query = query.where(
            customers.c.company_id == company,
            customers.c.code == only,
            pauses.c.company_id + 0 == company,
        )
    else:
        query = query.where(pauses.c.company_id == company)
    return [
        Pause(kind=k, customer=c, invoice_id=i, until=u, reason=r)
        for k, c, i, u, r in conn.execute(query)
    ]


def _done(
    conn: Connection, company: int, only: str | None, *, parts: str | None = None
) -> Generator[tuple[int, Done], None, None]:
    """(part, step) of the steps that went out (or may have), each distinct date
    parsed once; part 0, or as ``chase_rows`` gives them with ``parts``."""
    sql = (
        f"SELECT {'pt.part' if parts else '0'}, ri.invoice_id, ri.step, ri.channel,"
        " r.planned_on FROM reminder_items ri JOIN reminders r ON r.id = ri.reminder_id"
    )
    if parts:
        sql += f" JOIN {parts} pt ON pt.customer_id = r.customer_id"
    # one customer's: by its code, not through the company's rows (see chase_rows)
    sql += f" WHERE {'+' if only else ''}r.company_id = :company AND r.state IN :states"
    if only:
        sql += (
            " AND r.customer_id IN (SELECT id FROM customers"
            " WHERE company_id = :company AND code = :customer)"
        )
    if parts:
        sql += " ORDER BY pt.part"
    query = text(sql).bindparams(bindparam("states", expanding=True))
    params = {"company": company, "states": list(DONE_STATES), "customer": only}
    days: dict[object, dt.date] = {}
    rows = driver_rows(conn, query, params, stream=bool(parts))
    try:
        for part, invoice, step, channel, on in rows:
            day = days.get(on)
            if day is None:
                day = days[on] = as_date(on)
            yield part, Done(invoice, step, channel, day)
    finally:
        rows.close()


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
