"""The delivery ledger: every reminder planned -> claimed -> sent | failed | uncertain
| cancelled, under a unique key, so that none goes out twice across crashes.

A claim commits before any byte leaves; its items (invoice, step, channel) are
inserted with it under a unique constraint, so an invoice gets each step once
whatever message carried it. A claim whose lease ran out (the process died
while sending) becomes ``uncertain``: reported, never sent again by itself.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from sageconnect.dunning.message import Delivery, Notice
from sageconnect.dunning.planner import Planned
from sageconnect.store.tables import customers, reminder_items, reminders

WAITING = ("planned",)


@dataclass(frozen=True, slots=True)
class Row:
    """A ledger row as reports and the CLI show it."""

    key: str
    customer: str
    step: str
    channel: str
    state: str
    planned_on: dt.date
    total: Decimal
    attempts: int
    provider_ref: str
    detail: str


def payload(notice: Notice) -> str:
    """The notice as stable JSON: what was (or will be) said."""

    def plain(value: Any) -> Any:
        if isinstance(value, Decimal | dt.date):
            return str(value)
        return value

    data = asdict(notice)
    return json.dumps(data, default=plain, sort_keys=True, ensure_ascii=False)


def record_plan(
    conn: Connection, company: int, planned: Iterable[Planned], day: dt.date
) -> tuple[int, int]:
    """Insert today's plan (a known key is left as it is); cancel what it superseded.

    Returns (new rows, rows cancelled because the plan no longer has them).
    """
    keys = []
    new = 0
    existing = {
        k: (state, h)
        for k, state, h in conn.execute(
            select(reminders.c.key, reminders.c.state, reminders.c.payload_hash).where(
                reminders.c.company_id == company
            )
        )
    }
    for p in planned:
        body = payload(p.notice)
        digest = hashlib.sha256(body.encode()).hexdigest()
        keys.append(p.notice.key)
        if p.notice.key in existing:
            state, old = existing[p.notice.key]
            if state == "planned" and old != digest:  # amounts moved: say today's
                conn.execute(
                    update(reminders)
                    .where(reminders.c.key == p.notice.key)
                    .values(payload=body, payload_hash=digest, planned_on=day)
                )
            continue
        conn.execute(
            insert(reminders).values(
                key=p.notice.key,
                company_id=company,
                customer_id=p.customer_id,
                scenario=p.notice.scenario,
                step=p.notice.step,
                channel=p.notice.channel,
                planned_on=day,
                state="planned",
                total=p.notice.total_claimed,
                payload=body,
                payload_hash=digest,
                attempts=0,
            )
        )
        new += 1
    stale = conn.execute(
        update(reminders)
        .where(
            reminders.c.company_id == company,
            reminders.c.state == "planned",
            reminders.c.key.not_in(keys) if keys else reminders.c.key.is_not(None),
        )
        .values(state="cancelled", outcome_detail="superseded: no longer planned")
    ).rowcount
    return new, stale


def waiting(conn: Connection, company: int) -> list[tuple[int, str, str, str]]:
    """Planned rows: (id, key, customer code, channel), oldest first."""
    rows = conn.execute(
        select(reminders.c.id, reminders.c.key, customers.c.code, reminders.c.channel)
        .join(customers, customers.c.id == reminders.c.customer_id)
        .where(reminders.c.company_id == company, reminders.c.state == "planned")
        .order_by(reminders.c.planned_on, reminders.c.id)
    )
    return [(i, k, c, ch) for i, k, c, ch in rows]


def claim(
    conn: Connection,
    reminder: int,
    planned: Planned,
    now: dt.datetime,
    lease: dt.timedelta,
) -> str | None:
    """Claim a planned row for sending; None if another process has it or an item
    already had its step (the unique item constraint)."""
    attempt = uuid.uuid4().hex
    taken = conn.execute(
        update(reminders)
        .where(reminders.c.id == reminder, reminders.c.state == "planned")
        .values(
            state="claimed",
            attempt_id=attempt,
            attempts=reminders.c.attempts + 1,
            claimed_at=now,
            lease_until=now + lease,
        )
    ).rowcount
    if taken != 1:
        return None
    try:
        with conn.begin_nested():
            conn.execute(
                insert(reminder_items),
                [
                    {
                        "reminder_id": reminder,
                        "invoice_id": invoice,
                        "step": step,
                        "channel": planned.notice.channel,
                        "open": amount,
                    }
                    for (invoice, step), amount in zip(
                        planned.triggers, planned.opens, strict=True
                    )
                ],
            )
    except IntegrityError:
        conn.execute(
            update(reminders)
            .where(reminders.c.id == reminder)
            .values(
                state="cancelled",
                outcome_detail="an invoice already had this step by another message",
            )
        )
        return None
    return attempt


def finish(
    conn: Connection, reminder: int, attempt: str, delivery: Delivery, now: dt.datetime
) -> str:
    """Record how the attempt went; return the row's new state."""
    state = {
        "sent": "sent",
        "failed": "failed",
        "uncertain": "uncertain",
        "retry": "planned",
    }[delivery.status]
    if state == "planned":  # nothing left: the items may go again next cycle
        conn.execute(
            delete(reminder_items).where(reminder_items.c.reminder_id == reminder)
        )
    conn.execute(
        update(reminders)
        .where(reminders.c.id == reminder, reminders.c.attempt_id == attempt)
        .values(
            state=state,
            finished_at=now if state != "planned" else None,
            lease_until=None,
            provider_ref=delivery.provider_ref or None,
            outcome_detail=delivery.detail[:500] or None,
        )
    )
    return state


def cancel(conn: Connection, reminder: int, reason: str) -> None:
    conn.execute(
        update(reminders)
        .where(reminders.c.id == reminder, reminders.c.state == "planned")
        .values(state="cancelled", outcome_detail=reason[:500])
    )


def expire_leases(conn: Connection, company: int, now: dt.datetime) -> list[Row]:
    """Claimed rows whose lease ran out: the process died mid-send. Now uncertain."""
    lapsed = (
        reminders.c.company_id == company,
        reminders.c.state == "claimed",
        reminders.c.lease_until < now,
    )
    found = rows(conn, company, states=("claimed",), where=lapsed)
    conn.execute(
        update(reminders)
        .where(*lapsed)
        .values(
            state="uncertain",
            outcome_detail="claimed, then the process stopped before recording:"
            " it may have been sent",
        )
    )
    return found


def rows(
    conn: Connection,
    company: int | None = None,
    *,
    states: tuple[str, ...] = (),
    where: tuple[ColumnElement[bool], ...] = (),
) -> list[Row]:
    query = select(
        reminders.c.key,
        customers.c.code,
        reminders.c.step,
        reminders.c.channel,
        reminders.c.state,
        reminders.c.planned_on,
        reminders.c.total,
        reminders.c.attempts,
        reminders.c.provider_ref,
        reminders.c.outcome_detail,
    ).join(customers, customers.c.id == reminders.c.customer_id)
    if company is not None:
        query = query.where(reminders.c.company_id == company)
    if states:
        query = query.where(reminders.c.state.in_(states))
    if where:
        query = query.where(*where)
    return [
        Row(k, c, s, ch, st, p, t, a, ref or "", d or "")
        for k, c, s, ch, st, p, t, a, ref, d in conn.execute(
            query.order_by(reminders.c.planned_on, reminders.c.id)
        )
    ]


def resolve(conn: Connection, key: str, *, sent: bool, by: str) -> str | None:
    """Settle an uncertain (or failed) row by hand; returns its new state or None."""
    found = conn.execute(
        select(reminders.c.id, reminders.c.state).where(reminders.c.key == key)
    ).first()
    if found is None or found.state not in ("uncertain", "failed"):
        return None
    if sent:
        conn.execute(
            update(reminders)
            .where(reminders.c.id == found.id)
            .values(state="sent", resolved_by=by)
        )
        return "sent"
    conn.execute(delete(reminder_items).where(reminder_items.c.reminder_id == found.id))
    conn.execute(
        update(reminders)
        .where(reminders.c.id == found.id)
        .values(state="planned", resolved_by=by, attempt_id=None)
    )
    return "planned"
