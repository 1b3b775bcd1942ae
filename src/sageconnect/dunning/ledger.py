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
from dataclasses import dataclass, fields, is_dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Connection, delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.dml import Insert

from sageconnect import logs
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
    """The notice as stable JSON: what was (or will be) said.

    The JSON of ``dataclasses.asdict``, amounts and dates as their text, built
    without asdict's deep copy of every value (a first plan of a large ledger
    records 100 000 notices).
    """
    return json.dumps(_as_data(notice), sort_keys=True, ensure_ascii=False)


_LEAVES = frozenset({str, int, bool, float, type(None)})
_TEXT = frozenset({Decimal, dt.date})  # the common cases of what is written as text
_NAMES: dict[type, tuple[str, ...]] = {}


def _as_data(value: Any) -> Any:
    """Dataclasses as dicts of their fields, lists and tuples as lists, nested;
    Decimal and dates (datetimes too) as their text."""
    kind = type(value)
    if kind in _LEAVES:
        return value
    if kind in _TEXT:
        return str(value)
    names = _NAMES.get(kind)
    if names is None:
        if isinstance(value, list | tuple):
            return [_as_data(v) for v in value]
        if isinstance(value, dict):
            return {k: _as_data(v) for k, v in value.items()}
        if not is_dataclass(value):  # a datetime is a date, and so on
            return str(value) if isinstance(value, Decimal | dt.date) else value
        names = _NAMES[kind] = tuple(f.name for f in fields(value))
    return {name: _as_data(getattr(value, name)) for name in names}


def record_plan(
    conn: Connection, company: int, planned: Iterable[Planned], day: dt.date
) -> tuple[int, int]:
    """Record today's plan; cancel what it superseded.

    A new key is inserted; a known key still planned, or cancelled earlier (a
    dispute since resolved, a grouping that came back), is planned again with
    today's words; a key claimed, sent, failed or uncertain is left alone.
    Returns (rows planned anew, rows cancelled because the plan dropped them).
    A plan made a batch of customers at a time is recorded batch by batch
    (:func:`record`, with the states read once by :func:`states`), then
    :func:`supersede` once.
    """
    new = record(conn, company, planned, day, states(conn, company))
    return new, supersede(conn, company, day)


def states(conn: Connection, company: int) -> dict[str, str]:
    """Every reminder key of the company, with its state."""
    rows = conn.execute(
        select(reminders.c.key, reminders.c.state).where(
            reminders.c.company_id == company
        )
    )
    return {key: state for key, state in rows}  # noqa: C416


def record(
    conn: Connection,
    company: int,
    planned: Iterable[Planned],
    day: dt.date,
    known: dict[str, str],
) -> int:
    """Record part of today's plan (see :func:`record_plan`); ``known``: the
    states read before. Returns the rows planned anew."""
    new = 0
    fresh: list[dict[str, object]] = []
    for p in planned:
        state = known.get(p.notice.key)
        if state is not None and state not in ("planned", "cancelled"):
            continue  # claimed, sent, failed or uncertain: as it is
        body = payload(p.notice)
        digest = hashlib.sha256(body.encode()).hexdigest()
        if state is not None:
            new += state == "cancelled"
            conn.execute(
                update(reminders)
                .where(
                    reminders.c.key == p.notice.key,
                    reminders.c.state.in_(("planned", "cancelled")),
                )
                .values(
                    state="planned",
                    payload=body,
                    payload_hash=digest,
                    total=p.notice.total_claimed,
                    planned_on=day,
                    outcome_detail=None,
                    attempt_id=None,
                )
            )
            continue
        fresh.append(
            {
                "key": p.notice.key,
                "company_id": company,
                "customer_id": p.customer_id,
                "scenario": p.notice.scenario,
                "step": p.notice.step,
                "channel": p.notice.channel,
                "planned_on": day,
                "state": "planned",
                "total": p.notice.total_claimed,
                "payload": body,
                "payload_hash": digest,
                "attempts": 0,
            }
        )
    for start in range(0, len(fresh), 1000):
        batch = fresh[start : start + 1000]
        # another run may have planned the same keys a moment ago: same rows
        conn.execute(_insert_new(conn), batch)
    return new + len(fresh)  # less any a concurrent run inserted first


def supersede(conn: Connection, company: int, day: dt.date) -> int:
    """Cancel what today's plan, recorded whole, no longer plans; how many."""
    return int(
        conn.execute(
            update(reminders)
            .where(
                reminders.c.company_id == company,
                reminders.c.state == "planned",
                reminders.c.planned_on < day,
            )
            .values(state="cancelled", outcome_detail="superseded: no longer planned")
        ).rowcount
    )


def _insert_new(conn: Connection) -> Insert:
    """INSERT ... ON CONFLICT (key) DO NOTHING, in the store's dialect."""
    if conn.dialect.name == "postgresql":
        return pg_insert(reminders).on_conflict_do_nothing(index_elements=["key"])
    return sqlite_insert(reminders).on_conflict_do_nothing(index_elements=["key"])


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
    now = now.astimezone(dt.UTC)  # stored as UTC: SQLite compares them as text
    body = payload(planned.notice)
    taken = conn.execute(
        update(reminders)
        .where(reminders.c.id == reminder, reminders.c.state == "planned")
        .values(
            payload=body,  # what leaves is what the ledger keeps
            payload_hash=hashlib.sha256(body.encode()).hexdigest(),
            total=planned.notice.total_claimed,
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
        logs.get().warning(
            "reminder_skipped",
            key=planned.notice.key,
            customer=planned.notice.customer,
            reason="an invoice already had this step by another message",
        )
        return None
    return attempt


def finish(
    conn: Connection, reminder: int, attempt: str, delivery: Delivery, now: dt.datetime
) -> str:
    """Record how this attempt went; return the row's new state.

    Only the attempt that holds the claim records (a lapsed one that finishes
    late changes nothing). A message that did not reach the customer (retry,
    failed) frees its invoices' steps, so another message may carry them.
    """
    state = {
        "sent": "sent",
        "failed": "failed",
        "uncertain": "uncertain",
        "retry": "planned",
    }[delivery.status]
    done = conn.execute(
        update(reminders)
        .where(
            reminders.c.id == reminder,
            reminders.c.attempt_id == attempt,
            reminders.c.state == "claimed",
        )
        .values(
            state=state,
            finished_at=now if state != "planned" else None,
            lease_until=None,
            provider_ref=delivery.provider_ref or None,
            outcome_detail=delivery.detail[:500] or None,
        )
    ).rowcount
    if done != 1:
        return "lapsed"
    if state in ("planned", "failed"):
        conn.execute(
            delete(reminder_items).where(reminder_items.c.reminder_id == reminder)
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
    now = now.astimezone(dt.UTC)
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
