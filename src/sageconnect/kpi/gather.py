"""Read what the KPIs need from the store, for one company and one day.

Thin: each query returns plain values the pure modules (aging, ratios,
forecast, priority, activity) compute from. Figures are as of the end of the
day, like the balances report.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from sageconnect.credit.gather import buyers
from sageconnect.credit.scoring import Score, scores
from sageconnect.credit.settings import Policy
from sageconnect.kpi.activity import Reminded
from sageconnect.kpi.ratios import Ledger, period_months
from sageconnect.store.open_items import OpenItem, open_items
from sageconnect.store.queries import balances
from sageconnect.store.tables import (
    customers,
    invoices,
    pauses,
    reminder_items,
    reminders,
)

ZERO = Decimal("0.00")
SALES_KINDS = ("invoice", "credit_note")
CREDITS = ("payment", "credit_note")
BROKEN_WITHIN = dt.timedelta(days=30)


@dataclass(frozen=True, slots=True)
class PauseFacts:
    disputed: frozenset[str]  # invoice keys
    # customer, invoice keys (several: instalments; none: the whole customer),
    # until, amount
    promises: tuple[tuple[str, tuple[str, ...], dt.date, Decimal | None], ...]
    on_hold: frozenset[str]  # customer codes
    broken: frozenset[str]  # customers with a promise broken lately
    held: frozenset[str] = frozenset()  # invoice keys on hold (not the customer)


@dataclass(frozen=True, slots=True)
class Facts:
    """Everything read for one company and one day."""

    as_of: dt.date
    items: list[OpenItem]
    ledger: Ledger
    pauses: PauseFacts
    scores: dict[str, Score]
    insured: dict[str, str]  # customer -> insurer, for those covered on as_of
    reminded: list[Reminded] = field(default_factory=list)


def read_facts(
    conn: Connection,
    company: int,
    as_of: dt.date,
    *,
    months: int,
    pending_days: int,
    policy: Policy | None,
    tz: ZoneInfo,
) -> Facts:
    """What the KPIs of ``as_of`` need; ``tz`` (the company's) says when the
    day ends, for the pauses entered and resolved by then."""
    items = open_items(conn, company, as_of, pending_days=pending_days)
    return Facts(
        as_of=as_of,
        items=items,
        ledger=_ledger(conn, company, as_of, months, items),
        pauses=_pauses(conn, company, as_of, tz),
        scores=scores(conn, company, as_of),
        insured=_insured(conn, company, as_of, policy),
        reminded=_reminded(conn, company),
    )


def _ledger(
    conn: Connection,
    company: int,
    as_of: dt.date,
    months: int,
    items: list[OpenItem],
) -> Ledger:
    start = period_months(as_of, months)[-1][0]
    eve = start - dt.timedelta(days=1)
    owed = [i for i in items if i.open > 0 and i.kind not in CREDITS]
    before = [
        i
        for i in open_items(conn, company, eve)
        if i.open > 0 and i.kind not in CREDITS and i.due is not None and i.due < start
    ]
    sales = conn.execute(
        select(invoices.c.issued, invoices.c.amount).where(
            invoices.c.company_id == company,
            invoices.c.closed_run_id.is_(None),
            invoices.c.kind.in_(SALES_KINDS),
            invoices.c.issued >= start,
            invoices.c.issued <= as_of,
        )
    )
    return Ledger(
        as_of=as_of,
        months=months,
        sales=tuple((day, amount) for day, amount in sales),
        receivable_start=sum(
            (b.ledger_balance for b in balances(conn, company, eve)), ZERO
        ),
        receivable_end=sum((i.open for i in items), ZERO),
        open_invoices_end=sum((i.open for i in owed), ZERO),
        not_due_end=sum((i.open for i in owed if (i.due or i.issued) >= as_of), ZERO),
        overdue_start={i.key: i.open for i in before},
        open_end={i.key: i.open for i in owed},
    )


def _pauses(conn: Connection, company: int, as_of: dt.date, tz: ZoneInfo) -> PauseFacts:
    """The pauses as they stood at the end of ``as_of``: one entered later does
    not exist yet, one resolved later was still running."""
    disputed, hold, broken, held = set(), set(), set(), set()
    promises: dict[
        tuple[object, ...], tuple[str, tuple[str, ...], dt.date, Decimal | None]
    ] = {}
    rows = _pause_rows(conn, company)
    for kind, code, key, number, until, amount, created, resolution, resolved in rows:
        if _local_day(created, tz) > as_of:
            continue
        resolved_on = None if resolved is None else _local_day(resolved, tz)
        if resolved_on is not None and resolved_on <= as_of:
            if resolution == "broken" and as_of - resolved_on <= BROKEN_WITHIN:
                broken.add(code)
            continue
        if kind == "dispute" and key is not None and (until is None or until >= as_of):
            disputed.add(key)  # a dispute with an end ends then, as for the planner
        elif kind == "promise" and until is not None:
            # An invoice number with several rows (instalments) got one row
            # each, entered together, the amount on the first: one promise.
            entry = (code, created, number, until)
            _, keys, _, promised = promises.get(entry, (code, (), until, amount))
            more = () if key is None else (key,)
            promises[entry] = (code, keys + more, until, promised)
        elif kind == "hold" and (until is None or until >= as_of):
            if key is None:  # the whole customer
                hold.add(code)
            else:  # that invoice only, as the planner reads it
                held.add(key)
    return PauseFacts(
        frozenset(disputed),
        tuple(promises.values()),
        frozenset(hold),
        frozenset(broken),
        frozenset(held),
    )


def _pause_rows(conn: Connection, company: int) -> Iterable[Any]:
    return conn.execute(
        select(
            pauses.c.kind,
            customers.c.code,
            invoices.c.key,
            invoices.c.number,
            pauses.c.until,
            pauses.c.amount,
            pauses.c.created_at,
            pauses.c.resolution,
            pauses.c.resolved_at,
        )
        .join(customers, customers.c.id == pauses.c.customer_id)
        .outerjoin(invoices, invoices.c.id == pauses.c.invoice_id)
        .where(pauses.c.company_id == company)
        .order_by(pauses.c.id)
    )


def _local_day(moment: dt.datetime, tz: ZoneInfo) -> dt.date:
    # SQLite gives back the UTC timestamps it was given without their zone.
    aware = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return aware.astimezone(tz).date()


def _insured(
    conn: Connection, company: int, as_of: dt.date, policy: Policy | None
) -> dict[str, str]:
    if policy is None:
        return {}
    return {
        b.code: b.cover.insurer
        for b in buyers(conn, company, as_of, policy.insurer)
        if b.cover is not None and b.cover.covers(as_of)
    }


def _reminded(conn: Connection, company: int) -> list[Reminded]:
    rows = conn.execute(
        select(
            reminders.c.key,
            reminder_items.c.step,
            reminder_items.c.channel,
            reminders.c.planned_on,
            invoices.c.key,
            reminder_items.c.open,
        )
        .join(reminders, reminders.c.id == reminder_items.c.reminder_id)
        .join(invoices, invoices.c.id == reminder_items.c.invoice_id)
        .where(reminders.c.company_id == company, reminders.c.state == "sent")
    )
    return [
        Reminded(reminder=k, step=s, channel=c, on=on, invoice=i, open=o)
        for k, s, c, on, i, o in rows
    ]
