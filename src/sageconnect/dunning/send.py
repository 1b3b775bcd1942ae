"""Plan, then send each reminder at most once: the edge around the pure planner.

One cycle for a company: lapsed claims become uncertain, broken promises are
noted, pauses dropped as CSV are read; the freshness guard refuses to send on
stale data; today's plan is recorded; then each planned message is checked
again against the store just before it leaves (an invoice paid, disputed or
promised since is dropped), claimed, sent once, and recorded.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import Connection, Engine, select

from sageconnect import failpoints, logs, shutdown
from sageconnect.clock import Clock, today
from sageconnect.config import Config
from sageconnect.credit.scoring import scores
from sageconnect.dunning import ledger
from sageconnect.dunning import pauses as pause_store
from sageconnect.dunning.contacts import Contact, overlay, read_contacts
from sageconnect.dunning.interest import Rates
from sageconnect.dunning.message import (
    Channel,
    Delivery,
    Notice,
    Outgoing,
    Rendered,
    Sender,
)
from sageconnect.dunning.planner import Company, Debtor, Plan, Planned, plan
from sageconnect.dunning.settings import DunningConfig
from sageconnect.dunning.snapshot import (
    Snapshot,
    last_good_sync,
    snapshot,
    snapshots,
)
from sageconnect.gcpause import paused
from sageconnect.store.open_items import PENDING_DAYS
from sageconnect.store.queries import company_ids
from sageconnect.store.rejects import record_side_rejects
from sageconnect.store.tables import reminders

Render = Callable[[Notice, tuple[str, ...]], Rendered]  # (notice, postal address)


@dataclass(slots=True)
class SendReport:
    """What one cycle did; the fields of send_finished."""

    status: str = "done"  # done | stale | not_synced | disabled | interrupted
    planned: int = 0
    new: int = 0
    superseded: int = 0
    sent: int = 0
    failed: int = 0
    uncertain: int = 0
    retry: int = 0
    skipped: int = 0
    lapsed: int = 0
    keys: list[str] = field(default_factory=list)


def company_settings(
    config: Config, code: str
) -> tuple[DunningConfig, Company, Rates, int]:
    """A company's dunning settings: scenarios, sender, rates, pending days."""
    dunning = config.dunning
    if dunning is None:
        raise ValueError("no [dunning] section")
    company = config.companies[code]
    own = company.sender or dunning.sender
    sender = Sender(
        name=own.name or company.name,
        email=own.email,
        phone=own.phone,
        address=own.address,
        siren=own.siren,
        signature=own.signature,
        iban=own.iban,
    )
    rates = Rates.build(
        ((r.start, r.ecb, r.legal) for r in dunning.interest.rates),
        dunning.interest.points,
    )
    pending = company.bank.pending_days if company.bank else PENDING_DAYS
    return (
        dunning,
        Company(code=code, sender=sender, currency=company.currency),
        rates,
        pending,
    )


BATCH = 5000  # customers planned at a time: memory follows this, not the ledger


@dataclass(slots=True)
class Planner:
    """One company's planning inputs for a cycle, read once: its settings, the
    contacts file and, when a rule asks for them, the payer grades. Planning
    the whole company and re-planning one customer before sending share it."""

    config: Config
    code: str
    company_id: int
    day: dt.date
    _contacts: dict[str, Contact] | None = None
    _grades: dict[str, str] | None = None

    def plan(self, conn: Connection, customer: str) -> tuple[Plan, Snapshot]:
        """One customer's plan, and what it was made from (before a message)."""
        pending = company_settings(self.config, self.code)[3]
        snap = snapshot(
            conn, self.company_id, self.day, pending_days=pending, customer=customer
        )
        return self._plan(conn, snap), snap

    def batches(self, conn: Connection, size: int | None = None) -> Iterator[Plan]:
        """The whole company's plan, ``size`` (BATCH) customers at a time, in the
        order of their codes: joined, the reminders and reasons of one plan of
        everything, in the same order (the planner plans each customer on its
        own), with memory for one part. Read in ``conn``'s transaction."""
        pending = company_settings(self.config, self.code)[3]
        with paused():  # from the first read to the last part's use: gcpause
            for part in snapshots(
                conn,
                self.company_id,
                self.day,
                pending_days=pending,
                size=size or BATCH,
            ):
                yield self._plan(conn, part)

    def _plan(self, conn: Connection, snap: Snapshot) -> Plan:
        dunning, company, rates, _ = company_settings(self.config, self.code)
        return plan(
            company=company,
            debtors=self._debtors(conn, snap.debtors),
            items=snap.items,
            pauses=snap.pauses,
            done=snap.done,
            settings=dunning,
            rates=rates,
            as_of=self.day,
        )

    def _debtors(self, conn: Connection, found: list[Debtor]) -> list[Debtor]:
        """The store's debtors, with the contacts file laid over them and, when a
        scenario rule asks for it, their payer grade (credit/scoring.py)."""
        path = self.config.companies[self.code].contacts
        if path:
            if self._contacts is None:  # read once a cycle; its bad rows logged then
                self._contacts, bad = read_contacts(self.config.resolve_path(path))
                logs.rejected(bad)
            found = overlay(found, self._contacts)
        dunning = self.config.dunning
        if dunning is not None and any(r.risk for r in dunning.rules):
            if self._grades is None:
                graded = scores(conn, self.company_id, self.day)
                self._grades = {c: g.grade or "" for c, g in graded.items()}
            found = [replace(d, risk=self._grades.get(d.code, "")) for d in found]
        return found


def plan_company(
    conn: Connection, config: Config, code: str, company_id: int, day: dt.date
) -> Plan:
    """The company's whole plan in one (its batches joined)."""
    whole = Plan()
    for part in Planner(config, code, company_id, day).batches(conn):
        whole.reminders += part.reminders
        whole.skipped += part.skipped
    return whole


def send_company(
    config: Config,
    code: str,
    engine: Engine,
    clock: Clock,
    *,
    channels: Mapping[str, Channel],
    render: Render,
) -> SendReport:
    """One planning and sending cycle for a company; logs every outcome."""
    report = SendReport()
    log = logs.get()
    company = config.companies[code]
    if config.dunning is None or not company.dunning:
        report.status = "disabled"
        return report
    dunning, _, rates, _ = company_settings(config, code)
    day = today(clock, ZoneInfo(company.timezone))
    started = time.perf_counter()
    with structlog.contextvars.bound_contextvars(company=code):
        if not rates.is_current(day):
            newest = rates.table[-1][0]
            log.warning(
                "rate_table_stale",
                reason="no ECB and legal rates for this half-year: the newest stand in",
                newest=newest.isoformat(),
                add="[dunning.interest] rates = [{ from, ecb, legal }]",
            )
        with engine.begin() as conn:
            company_id = company_ids(conn).get(code)
            if company_id is None:
                log.warning("send_refused", reason="company never synced")
                report.status = "not_synced"
                return report
            _housekeeping(
                conn, config, code, company_id, now=clock.now(), day=day, report=report
            )
            last = last_good_sync(conn, company_id)
        age = None if last is None else clock.now() - last
        if age is None or age > dt.timedelta(hours=dunning.freshness_hours):
            log.error(
                "send_refused",
                reason="stale data: the last successful sync is too old",
                last_sync=last.isoformat() if last else None,
                freshness_hours=dunning.freshness_hours,
            )
            report.status = "stale"
            return report
        planner = Planner(config, code, company_id, day)
        with engine.begin() as conn:
            known = ledger.states(conn, company_id)
        # Read in one transaction (one view of the store), each part recorded in
        # a short one of its own: another writer (a pause added, a sync) waits
        # for one part's records at most, and the reads never become a write
        # (SQLite refuses a write from a reader that another commit overtook).
        # A cycle stopped half-way has recorded some parts: the next one plans
        # them again under the same keys.
        with engine.connect() as reader:
            for part in planner.batches(reader):
                planned = part.reminders
                report.planned += len(planned)
                with engine.begin() as conn:
                    report.new += ledger.record(conn, company_id, planned, day, known)
        with engine.begin() as conn:
            report.superseded = ledger.supersede(conn, company_id, day)
            queue = ledger.waiting(conn, company_id)
        lease = dt.timedelta(minutes=dunning.lease_minutes)
        for row_id, key, customer, channel in queue:
            if shutdown.requested():  # the message before was recorded: stop here
                report.status = "interrupted"
                break
            _send_one(
                engine,
                planner,
                (row_id, key, customer, channel),
                clock=clock,
                lease=lease,
                channels=channels,
                render=render,
                report=report,
            )
        log.info(
            "send_finished",
            planned=report.planned,
            new=report.new,
            superseded=report.superseded,
            sent=report.sent,
            failed=report.failed,
            uncertain=report.uncertain,
            retry=report.retry,
            skipped=report.skipped,
            lapsed=report.lapsed,
            interrupted=report.status == "interrupted",
            duration_s=round(time.perf_counter() - started, 3),
        )
    return report


def _housekeeping(
    conn: Connection,
    config: Config,
    code: str,
    company_id: int,
    *,
    now: dt.datetime,
    day: dt.date,
    report: SendReport,
) -> None:
    """Lapsed claims to uncertain, broken promises noted, CSV pauses read."""
    log = logs.get()
    for row in ledger.expire_leases(conn, company_id, now):
        report.lapsed += 1
        log.error(
            "reminder_uncertain",
            customer=row.customer,
            key=row.key,
            step=row.step,
            channel=row.channel,
            reason="claimed, then the process stopped before recording the outcome",
        )
    for promise in pause_store.break_promises(conn, company_id, day, now):
        log.warning(
            "promise_broken",
            customer=promise.customer,
            invoice=promise.invoice or None,
            until=promise.until.isoformat() if promise.until else None,
        )
    folder = config.dunning.pauses_folder if config.dunning else None
    if folder:
        path = config.resolve_path(folder)
        if path.is_dir():
            added, rejects = pause_store.import_folder(
                conn,
                code,
                company_id,
                path,
                now,
                companies=tuple(config.companies),
                methods=config.companies[code].matching.methods,
            )
            record_side_rejects(conn, company_id, rejects)
            logs.rejected(rejects)
            if added or rejects:
                log.info("pauses_imported", added=added, rejected=len(rejects))


def _send_one(
    engine: Engine,
    planner: Planner,
    row: tuple[int, str, str, str],
    *,
    clock: Clock,
    lease: dt.timedelta,
    channels: Mapping[str, Channel],
    render: Render,
    report: SendReport,
) -> None:
    row_id, key, customer, channel = row
    log = logs.get().bind(customer=customer, key=key, channel=channel)
    with engine.begin() as conn:
        planned, reason = _recheck(conn, planner, key=key, customer=customer)
        if planned is None:
            ledger.cancel(conn, row_id, reason)
            report.skipped += 1
            log.info("reminder_skipped", reason=reason)
            return
        attempt = ledger.claim(conn, row_id, planned, clock.now(), lease)
    if attempt is None:
        report.skipped += 1
        log.info("reminder_skipped", reason="already claimed, or its step already sent")
        return
    failpoints.hit("send.after_claim_commit")
    delivery = _deliver(planned, channels[channel], render)
    failpoints.hit("send.after_provider_ok_before_record")
    with engine.begin() as conn:
        state = ledger.finish(conn, row_id, attempt, delivery, clock.now())
    fields = {
        "step": planned.notice.step,
        "items": len(planned.notice.lines),
        "total": str(planned.notice.total_claimed),
        "detail": delivery.detail or None,
    }
    if state == "sent":
        report.sent += 1
        report.keys.append(key)
        log.info("reminder_sent", provider_ref=delivery.provider_ref or None, **fields)
    elif state == "planned":
        report.retry += 1
        log.warning("reminder_retry", **fields)
    elif state == "uncertain":
        report.uncertain += 1
        log.error("reminder_uncertain", **fields)
    elif state == "lapsed":  # the lease ran out meanwhile: already reported uncertain
        report.uncertain += 1
        log.error(
            "reminder_uncertain",
            reason="finished after its lease: outcome not recorded",
            outcome=delivery.status,
            **fields,
        )
    else:
        report.failed += 1
        log.error("reminder_failed", **fields)


def _recheck(
    conn: Connection, planner: Planner, *, key: str, customer: str
) -> tuple[Planned | None, str]:
    """Plan this customer again from the store as it is: this message, or why not."""
    fresh, snap = planner.plan(conn, customer)
    for planned in fresh.reminders:
        if planned.notice.key == key:
            return planned, ""
    body = conn.execute(
        select(reminders.c.payload).where(reminders.c.key == key)
    ).scalar()
    numbers = {line["number"] for line in json.loads(body or "{}").get("lines", [])}
    still_open = {i.number for i in snap.items}
    gone = sorted(numbers - still_open)
    if gone:
        return None, f"paid: {', '.join(gone)}"
    reasons = sorted(
        {s.reason for s in fresh.skipped if s.invoice in numbers or not s.invoice}
    )
    if reasons:
        return None, "; ".join(reasons)
    return None, "changed since planning: planned again next cycle"


def _deliver(planned: Planned, channel: Channel, render: Render) -> Delivery:
    notice = planned.notice
    try:
        rendered = render(notice, planned.recipient.address)
    except Exception as exc:  # noqa: BLE001 - a template error fails this message only
        return Delivery("failed", detail=f"render: {type(exc).__name__}: {exc}"[:300])
    attachments: tuple[tuple[str, str, bytes], ...] = ()
    if rendered.pdf and notice.channel == "email":
        name = f"{notice.step}-{notice.customer}-{notice.as_of.isoformat()}.pdf"
        attachments = ((name, "application/pdf", rendered.pdf),)
    message = Outgoing(
        key=notice.key,
        channel=notice.channel,
        company=notice.company,
        customer=notice.customer,
        recipient=planned.recipient,
        rendered=rendered,
        attachments=attachments,
        registered=planned.registered,
    )
    try:
        return channel.send(message)
    except Exception as exc:  # noqa: BLE001 - it may have left: never resend blindly
        return Delivery("uncertain", detail=f"{type(exc).__name__}: {exc}"[:300])
