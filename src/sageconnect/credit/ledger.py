"""The ledger of alerts: alert states, and each state change notified at most once.

``apply`` compares today's alerts (credit/alerts.py ``evaluate``) with the
active rows of ``alerts``: a new key is *raised* (a new occurrence when it was
raised and cleared before), a higher rank *escalates*, an alert gone *clears*;
a lower or equal rank only refreshes the row's text and facts, silently. Each
event plans one ``alert_notices`` row per notify target, under a key derived
from (company, alert key, occurrence, event, level, target): the same state
change is never planned twice, whatever the number of runs.

A notice then goes planned -> claimed -> sent | failed | uncertain (or back
to planned when nothing provably left), as reminders do (RELIABILITY.md 1.2):
the claim commits before any byte leaves, and a claim whose lease ran out
(the process died while sending) becomes ``uncertain``: reported, never sent
again by itself.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, insert, select, update

from sageconnect.credit.alerts import Alert
from sageconnect.dunning.message import Delivery
from sageconnect.store.tables import alert_notices, alerts

EVENTS = ("raised", "escalated", "cleared")


@dataclass(frozen=True, slots=True)
class AlertRow:
    """An alert state as the store keeps it."""

    id: int
    key: str
    occurrence: int
    kind: str
    customer: str
    subject: str
    level: str
    rank: int
    message: str
    facts: dict[str, str]
    raised_at: dt.datetime
    changed_at: dt.datetime
    cleared_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class Event:
    """One state change: what the notices of this run are about."""

    event: str  # raised | escalated | cleared
    alert_id: int
    key: str
    occurrence: int
    kind: str
    customer: str
    subject: str
    level: str
    previous: str = ""  # escalated: the level before


@dataclass(slots=True)
class Changes:
    """What ``apply`` did."""

    events: list[Event] = field(default_factory=list)
    updated: int = 0  # rows refreshed without an event
    notices: int = 0  # notice rows planned

    def count(self, event: str) -> int:
        return sum(e.event == event for e in self.events)


@dataclass(frozen=True, slots=True)
class NoticeRow:
    """A notice with the alert it is about."""

    id: int
    key: str
    target: str
    event: str
    level: str  # the level the notice announces
    state: str
    attempts: int
    provider_ref: str
    detail: str
    alert: AlertRow


def notice_key(
    company: int,
    alert_key: str,
    occurrence: int,
    *,
    event: str,
    level: str,
    target: str,
) -> str:
    """The notice's idempotency key: the same state change gives the same key."""
    text = json.dumps([company, alert_key, occurrence, event, level, target])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _facts(facts: dict[str, str]) -> str:
    return json.dumps(facts, sort_keys=True, ensure_ascii=False)


def apply(
    conn: Connection,
    company_id: int,
    current: list[Alert],
    now: dt.datetime,
    targets: Sequence[str],
) -> Changes:
    """Turn today's alerts into state changes and plan their notices."""
    now = now.astimezone(dt.UTC)  # SQLite keeps the wall time only
    wanted: dict[str, Alert] = {}
    for alert in current:  # one state per key: the worst, should two share one
        held = wanted.get(alert.key)
        if held is None or alert.rank > held.rank:
            wanted[alert.key] = alert
    active = {row.key: row for row in _select(conn, company_id, everything=False)}
    changes = Changes()
    for key, alert in wanted.items():
        row = active.get(key)
        if row is None:
            changes.events.append(_raise(conn, company_id, alert, now))
        elif alert.rank > row.rank:
            _update(conn, row.id, alert, now, level=True)
            changes.events.append(
                Event(
                    "escalated",
                    row.id,
                    key,
                    row.occurrence,
                    alert.kind,
                    alert.customer,
                    alert.subject,
                    alert.level,
                    previous=row.level,
                )
            )
        elif (
            alert.level != row.level
            or alert.message != row.message
            or alert.facts != row.facts
        ):
            _update(conn, row.id, alert, now, level=alert.rank < row.rank)
            changes.updated += 1
    for key, row in active.items():
        if key in wanted:
            continue
        conn.execute(
            update(alerts)
            .where(alerts.c.id == row.id, alerts.c.cleared_at.is_(None))
            .values(cleared_at=now, changed_at=now)
        )
        changes.events.append(
            Event(
                "cleared",
                row.id,
                key,
                row.occurrence,
                row.kind,
                row.customer,
                row.subject,
                row.level,
            )
        )
    changes.notices = _plan_notices(conn, company_id, changes.events, targets)
    return changes


def _raise(conn: Connection, company_id: int, alert: Alert, now: dt.datetime) -> Event:
    last = conn.execute(
        select(func.max(alerts.c.occurrence)).where(
            alerts.c.company_id == company_id, alerts.c.key == alert.key
        )
    ).scalar()
    occurrence = (last or 0) + 1
    new_id: int = conn.execute(
        insert(alerts).values(
            company_id=company_id,
            key=alert.key,
            occurrence=occurrence,
            kind=alert.kind,
            customer=alert.customer,
            subject=alert.subject,
            level=alert.level,
            rank=alert.rank,
            message=alert.message,
            facts=_facts(alert.facts),
            raised_at=now,
            changed_at=now,
        )
    ).inserted_primary_key[0]  # type: ignore[index]
    return Event(
        "raised",
        new_id,
        alert.key,
        occurrence,
        alert.kind,
        alert.customer,
        alert.subject,
        alert.level,
    )


def _update(
    conn: Connection, row_id: int, alert: Alert, now: dt.datetime, *, level: bool
) -> None:
    values: dict[str, object] = {
        "message": alert.message,
        "facts": _facts(alert.facts),
        "changed_at": now,
    }
    if level:
        values |= {"level": alert.level, "rank": alert.rank}
    conn.execute(update(alerts).where(alerts.c.id == row_id).values(**values))


def _plan_notices(
    conn: Connection, company_id: int, events: Iterable[Event], targets: Sequence[str]
) -> int:
    """One planned notice per event and target; a key already there is left."""
    rows = [
        {
            "key": notice_key(
                company_id,
                e.key,
                e.occurrence,
                event=e.event,
                level=e.level,
                target=target,
            ),
            "alert_id": e.alert_id,
            "target": target,
            "event": e.event,
            "level": e.level,
            "state": "planned",
            "attempts": 0,
        }
        for e in events
        for target in sorted(set(targets))
    ]
    if not rows:
        return 0
    known = set(
        conn.execute(
            select(alert_notices.c.key).where(
                alert_notices.c.key.in_([r["key"] for r in rows])
            )
        ).scalars()
    )
    fresh = [r for r in rows if r["key"] not in known]
    if fresh:
        conn.execute(insert(alert_notices), fresh)
    return len(fresh)


# --- sending -------------------------------------------------------------------


def waiting(conn: Connection, company_id: int) -> list[NoticeRow]:
    """Planned notices, oldest first."""
    return notices(conn, company_id, states=("planned",))


def claim(
    conn: Connection, notice: int, now: dt.datetime, lease: dt.timedelta
) -> str | None:
    """Claim a planned notice for sending; None if it is not planned any more."""
    now = now.astimezone(dt.UTC)
    attempt = uuid.uuid4().hex
    taken = conn.execute(
        update(alert_notices)
        .where(alert_notices.c.id == notice, alert_notices.c.state == "planned")
        .values(
            state="claimed",
            attempt_id=attempt,
            attempts=alert_notices.c.attempts + 1,
            claimed_at=now,
            lease_until=now + lease,
        )
    ).rowcount
    return attempt if taken == 1 else None


def finish(
    conn: Connection, notice: int, attempt: str, delivery: Delivery, now: dt.datetime
) -> str:
    """Record how the attempt went; return the notice's new state."""
    now = now.astimezone(dt.UTC)
    state = {
        "sent": "sent",
        "failed": "failed",
        "uncertain": "uncertain",
        "retry": "planned",
    }[delivery.status]
    conn.execute(
        update(alert_notices)
        .where(alert_notices.c.id == notice, alert_notices.c.attempt_id == attempt)
        .values(
            state=state,
            finished_at=now if state != "planned" else None,
            lease_until=None,
            provider_ref=delivery.provider_ref or None,
            outcome_detail=delivery.detail[:500] or None,
        )
    )
    return state


def expire_leases(
    conn: Connection, company_id: int, now: dt.datetime
) -> list[NoticeRow]:
    """Claimed notices whose lease ran out: the process died mid-send. Now uncertain."""
    now = now.astimezone(dt.UTC)
    mine = select(alerts.c.id).where(alerts.c.company_id == company_id)
    lapsed = (
        alert_notices.c.alert_id.in_(mine),
        alert_notices.c.state == "claimed",
        alert_notices.c.lease_until < now,
    )
    found = notices(conn, company_id, states=("claimed",), where=lapsed)
    if found:
        conn.execute(
            update(alert_notices)
            .where(*lapsed)
            .values(
                state="uncertain",
                lease_until=None,
                outcome_detail="claimed, then the process stopped before recording:"
                " it may have been sent",
            )
        )
    return found


# --- reading -------------------------------------------------------------------


def active(conn: Connection, company_id: int) -> list[AlertRow]:
    """The alerts that hold now, by customer and kind."""
    return _select(conn, company_id, everything=False)


def history(conn: Connection, company_id: int) -> list[AlertRow]:
    """Every alert, cleared ones too."""
    return _select(conn, company_id, everything=True)


_ALERT_COLUMNS = (
    alerts.c.id,
    alerts.c.key,
    alerts.c.occurrence,
    alerts.c.kind,
    alerts.c.customer,
    alerts.c.subject,
    alerts.c.level,
    alerts.c.rank,
    alerts.c.message,
    alerts.c.facts,
    alerts.c.raised_at,
    alerts.c.changed_at,
    alerts.c.cleared_at,
)


def _alert(r: Any) -> AlertRow:  # a Row holding the alert columns
    loaded = json.loads(r.facts or "{}")
    return AlertRow(
        id=r.id,
        key=r.key,
        occurrence=r.occurrence,
        kind=r.kind,
        customer=r.customer,
        subject=r.subject,
        level=r.level,
        rank=r.rank,
        message=r.message,
        facts={str(k): str(v) for k, v in loaded.items()},
        raised_at=_aware(r.raised_at),
        changed_at=_aware(r.changed_at),
        cleared_at=None if r.cleared_at is None else _aware(r.cleared_at),
    )


def _aware(value: dt.datetime) -> dt.datetime:
    """SQLite hands back naive datetimes: they were stored in UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _select(conn: Connection, company_id: int, *, everything: bool) -> list[AlertRow]:
    query = select(*_ALERT_COLUMNS).where(alerts.c.company_id == company_id)
    if not everything:
        query = query.where(alerts.c.cleared_at.is_(None))
    query = query.order_by(alerts.c.customer, alerts.c.kind, alerts.c.key, alerts.c.id)
    return [_alert(r) for r in conn.execute(query)]


def notices(
    conn: Connection,
    company_id: int,
    *,
    states: tuple[str, ...] = (),
    where: tuple[ColumnElement[bool], ...] = (),
) -> list[NoticeRow]:
    """Notices of a company's alerts, oldest first."""
    n = alert_notices.c
    query = (
        select(
            n.id.label("notice_id"),
            n.key.label("notice_key"),
            n.target,
            n.event,
            n.level.label("notice_level"),
            n.state,
            n.attempts,
            n.provider_ref,
            n.outcome_detail,
            *_ALERT_COLUMNS,
        )
        .join(alerts, alerts.c.id == n.alert_id)
        .where(alerts.c.company_id == company_id)
    )
    if states:
        query = query.where(n.state.in_(states))
    if where:
        query = query.where(*where)
    return [
        NoticeRow(
            id=r.notice_id,
            key=r.notice_key,
            target=r.target,
            event=r.event,
            level=r.notice_level,
            state=r.state,
            attempts=r.attempts,
            provider_ref=r.provider_ref or "",
            detail=r.outcome_detail or "",
            alert=_alert(r),
        )
        for r in conn.execute(query.order_by(n.id))
    ]
