"""The write-back queue in the store: one row per reminder event (sent, or
failed) and kind of note.

pending -> writing (claimed under a lease) -> written. A failed write goes back
to pending with a later ``next_try`` (doubling, capped). A claim whose lease ran
out (the process stopped mid-write) goes back to pending too: unlike a message
to a customer, a note is safe to try again, because the writer reads before it
writes and finds the note an interrupted attempt may have left.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, and_, exists, func, insert, select, update

from sageconnect.model.notes import NotedInvoice, NoteKind
from sageconnect.store.tables import (
    customers,
    invoices,
    note_queue,
    reminder_items,
    reminders,
)


@dataclass(frozen=True, slots=True)
class Sent:
    """A reminder that went out (or failed to), with what its note says."""

    reminder_id: int
    key: str
    customer: str
    scenario: str
    step: str
    channel: str
    left_at: dt.datetime | None  # when it was recorded sent (None: settled by hand)
    planned_on: dt.date
    total: Decimal
    interest: Decimal
    indemnity: Decimal
    numbers: tuple[str, ...]
    outcome: str  # sent | failed
    detail: str  # the channel's answer (e.g. an SMTP reply) for a failure

    def day(self, tz: dt.tzinfo) -> dt.date:
        """The day it left, at the company's site."""
        return self.left_at.astimezone(tz).date() if self.left_at else self.planned_on


@dataclass(frozen=True, slots=True)
class Queued:
    """A note to write now."""

    id: int
    kind: NoteKind
    marker: str
    text: str
    attempts: int
    sent: Sent
    invoices: tuple[NotedInvoice, ...]


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


def _sent(row: Any) -> Sent:
    body = json.loads(row.payload)
    return Sent(
        reminder_id=row.id,
        key=row.key,
        customer=row.code,
        scenario=row.scenario,
        step=row.step,
        channel=row.channel,
        left_at=_utc(row.finished_at or row.claimed_at),
        planned_on=row.planned_on,
        total=Decimal(body.get("total_claimed", "0")),
        interest=Decimal(body.get("total_interest", "0")),
        indemnity=Decimal(body.get("total_indemnity", "0")),
        numbers=tuple(line["number"] for line in body.get("lines", [])),
        outcome=row.state,
        detail=row.outcome_detail or "",
    )


_SENT_COLUMNS = (
    reminders.c.id,
    reminders.c.key,
    customers.c.code,
    reminders.c.scenario,
    reminders.c.step,
    reminders.c.channel,
    reminders.c.finished_at,
    reminders.c.claimed_at,
    reminders.c.planned_on,
    reminders.c.payload,
    reminders.c.state,
    reminders.c.outcome_detail,
)


def unqueued(
    conn: Connection,
    company: int,
    kind: NoteKind,
    outcome: str,
    since: dt.date | None,
) -> list[Sent]:
    """Reminders in state ``outcome`` (sent, failed) without this note queued,
    oldest first."""
    query = (
        select(*_SENT_COLUMNS)
        .join(customers, customers.c.id == reminders.c.customer_id)
        .where(
            reminders.c.company_id == company,
            reminders.c.state == outcome,
            ~exists().where(
                note_queue.c.reminder_id == reminders.c.id,
                note_queue.c.kind == kind,
                note_queue.c.outcome == outcome,
            ),
        )
        .order_by(reminders.c.id)
    )
    if since is not None:
        query = query.where(reminders.c.planned_on >= since)
    return [_sent(row) for row in conn.execute(query)]


def enqueue(
    conn: Connection,
    company: int,
    sent: Sent,
    *,
    kind: NoteKind,
    marker: str,
    text: str,
    target: str,
    now: dt.datetime,
) -> None:
    conn.execute(
        insert(note_queue).values(
            company_id=company,
            reminder_id=sent.reminder_id,
            kind=kind,
            outcome=sent.outcome,
            marker=marker,
            customer=sent.customer,
            target=target,
            text=text,
            state="pending",
            attempts=0,
            next_try=now.astimezone(dt.UTC),
            created_at=now.astimezone(dt.UTC),
        )
    )


def release_lapsed(conn: Connection, company: int, now: dt.datetime) -> int:
    """Claims whose lease ran out go back to pending (read-before-write makes a
    second attempt safe)."""
    return conn.execute(
        update(note_queue)
        .where(
            note_queue.c.company_id == company,
            note_queue.c.state == "writing",
            note_queue.c.lease_until < now.astimezone(dt.UTC),
        )
        .values(state="pending", attempt_id=None, lease_until=None)
    ).rowcount


def due(
    conn: Connection, company: int, now: dt.datetime, *, waiting_too: bool = False
) -> list[Queued]:
    """Pending notes whose time has come (``waiting_too``: all pending ones),
    oldest first, with their invoices."""
    when = [] if waiting_too else [note_queue.c.next_try <= now.astimezone(dt.UTC)]
    rows = conn.execute(
        select(
            note_queue.c.id.label("note_id"),
            note_queue.c.kind,
            note_queue.c.outcome.label("noted"),
            note_queue.c.marker,
            note_queue.c.text,
            note_queue.c.attempts,
            *_SENT_COLUMNS,
        )
        .join(reminders, reminders.c.id == note_queue.c.reminder_id)
        .join(customers, customers.c.id == reminders.c.customer_id)
        .where(
            note_queue.c.company_id == company, note_queue.c.state == "pending", *when
        )
        .order_by(note_queue.c.id)
    ).all()
    wanted = {row.id for row in rows}
    carried: dict[int, list[NotedInvoice]] = {i: [] for i in wanted}
    if wanted:
        for reminder, key, number in conn.execute(
            select(reminder_items.c.reminder_id, invoices.c.key, invoices.c.number)
            .join(invoices, invoices.c.id == reminder_items.c.invoice_id)
            .where(reminder_items.c.reminder_id.in_(wanted))
            .order_by(reminder_items.c.id)
        ):
            carried[reminder].append(NotedInvoice(key=key, number=number))
    return [
        Queued(
            id=row.note_id,
            kind=row.kind,
            marker=row.marker,
            text=row.text,
            attempts=row.attempts,
            sent=(sent := replace(_sent(row), outcome=row.noted)),
            # a failed reminder's items are freed: its invoices by number only
            invoices=tuple(carried[row.id])
            or tuple(NotedInvoice(key="", number=n) for n in sent.numbers),
        )
        for row in rows
    ]


def claim(
    conn: Connection, note: int, now: dt.datetime, lease: dt.timedelta
) -> str | None:
    """Take a pending note for writing; None if another process has it."""
    attempt = uuid.uuid4().hex
    now = now.astimezone(dt.UTC)
    taken = conn.execute(
        update(note_queue)
        .where(note_queue.c.id == note, note_queue.c.state == "pending")
        .values(state="writing", attempt_id=attempt, lease_until=now + lease)
    ).rowcount
    return attempt if taken == 1 else None


def written(
    conn: Connection,
    note: int,
    attempt: str,
    *,
    text: str,
    found: bool,
    now: dt.datetime,
) -> bool:
    """Record the note as in the target; False if this attempt lost its claim."""
    return (
        conn.execute(
            update(note_queue)
            .where(_held(note, attempt))
            .values(
                state="written",
                written_text=text,
                found=found,
                written_at=now.astimezone(dt.UTC),
                attempt_id=None,
                lease_until=None,
                last_error=None,
            )
        ).rowcount
        == 1
    )


def failed(
    conn: Connection, note: int, attempt: str, *, reason: str, next_try: dt.datetime
) -> None:
    """Back to pending, to be tried again at ``next_try``."""
    conn.execute(
        update(note_queue)
        .where(_held(note, attempt))
        .values(
            state="pending",
            attempts=note_queue.c.attempts + 1,
            next_try=next_try.astimezone(dt.UTC),
            attempt_id=None,
            lease_until=None,
            last_error=reason[:500],
        )
    )


def _held(note: int, attempt: str) -> Any:
    return and_(
        note_queue.c.id == note,
        note_queue.c.attempt_id == attempt,
        note_queue.c.state == "writing",
    )


def pending(conn: Connection, company: int) -> tuple[int, dt.datetime | None]:
    """Notes not written yet, and the soonest next try among them."""
    count, soonest = conn.execute(
        select(func.count(), func.min(note_queue.c.next_try)).where(
            note_queue.c.company_id == company, note_queue.c.state != "written"
        )
    ).one()
    return int(count), _utc(soonest)
