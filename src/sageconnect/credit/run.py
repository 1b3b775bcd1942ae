"""Check a company's credit alerts and notify each state change at most once.

One cycle: lapsed claims become uncertain; insurer decisions dropped in
``[credit] covers_folder`` are read; today's alerts are evaluated (in the
company's time zone) from the store and recorded as state changes (raised,
escalated, cleared); then each planned notice is claimed, sent once, and
recorded (RELIABILITY.md 1.2). A notice that may have left is never resent.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import Connection, Engine, select

from sageconnect import failpoints, logs, shutdown
from sageconnect.clock import Clock, today
from sageconnect.config import Config
from sageconnect.credit import gather, ledger
from sageconnect.credit.alerts import evaluate
from sageconnect.credit.covers import import_covers, source_covers
from sageconnect.credit.notify import AlertTarget, message_for
from sageconnect.credit.settings import Policy
from sageconnect.dunning.message import Delivery
from sageconnect.errors import ConfigError, Problem
from sageconnect.store.queries import company_ids
from sageconnect.store.rejects import record_side_rejects
from sageconnect.store.tables import customers

LEASE = dt.timedelta(minutes=15)  # a claim older than this died mid-send


@dataclass(slots=True)
class Report:
    """What one check did; the fields of ``alerts_finished``."""

    status: str = "done"  # done | not_synced | disabled | interrupted
    active: int = 0  # alerts holding after the check
    raised: int = 0
    escalated: int = 0
    cleared: int = 0
    updated: int = 0
    planned: int = 0  # notices planned by this check
    sent: int = 0
    failed: int = 0
    uncertain: int = 0
    retry: int = 0
    skipped: int = 0  # planned for a target no longer configured
    lapsed: int = 0  # claims found expired: now uncertain
    keys: list[str] = field(default_factory=list)  # notices sent


def company_policy(config: Config, code: str) -> Policy | None:
    """The insurance policy covering a company's customers, if any."""
    name = config.companies[code].policy
    if name is None:
        return None
    policies = config.credit.policies if config.credit else {}
    if name not in policies:
        raise ConfigError(
            [
                Problem(
                    f"companies.{code}.policy",
                    repr(name),
                    "a policy defined under [credit.policies]",
                )
            ]
        )
    return policies[name]


def check_company(
    config: Config,
    code: str,
    engine: Engine,
    clock: Clock,
    *,
    targets: Mapping[str, AlertTarget],
    lease: dt.timedelta = LEASE,
) -> Report:
    """Evaluate a company's alerts today, record the changes, notify each once."""
    report = Report()
    credit = config.credit
    if credit is None:
        report.status = "disabled"
        return report
    company = config.companies[code]
    policy = company_policy(config, code)
    day = today(clock, ZoneInfo(company.timezone))
    started = time.perf_counter()
    log = logs.get()
    with structlog.contextvars.bound_contextvars(company=code):
        with engine.begin() as conn:
            company_id = company_ids(conn).get(code)
            if company_id is None:
                log.warning("alerts_refused", reason="company never synced")
                report.status = "not_synced"
                return report
            _expire(conn, company_id, clock.now(), report)
        with engine.begin() as conn:  # the source's insured limits, as history
            added = source_covers(
                conn, company_id, policy.insurer if policy else "insurer", clock.now()
            )
        if added:
            log.info("covers_from_source", added=added)
        if credit.covers_folder:
            _import_covers(
                engine,
                company_id,
                config.resolve_path(credit.covers_folder),
                clock.now(),
            )
        with engine.begin() as conn:
            current = evaluate(
                buyers=gather.buyers(
                    conn, company_id, day, policy.insurer if policy else ""
                ),
                invoices=gather.open_invoices(conn, company_id, day),
                policy=policy,
                settings=credit,
                as_of=day,
            )
            changes = ledger.apply(
                conn, company_id, current, clock.now(), sorted(credit.notify)
            )
            queue = ledger.waiting(conn, company_id)
            names = _names(conn, company_id)
        _log_changes(changes, report)
        for notice in queue:
            if shutdown.requested():  # the notice before was recorded: stop here
                report.status = "interrupted"
                break
            target = targets.get(notice.target)
            if target is None:
                report.skipped += 1
                log.warning(
                    "alert_notice_skipped",
                    key=notice.key,
                    target=notice.target,
                    reason="no such target in [credit.notify]",
                )
                continue
            _send_one(
                engine,
                config,
                code,
                notice,
                target,
                customer_name=names.get(notice.alert.customer, ""),
                clock=clock,
                lease=lease,
                report=report,
            )
        report.active = len({a.key for a in current})
        log.info(
            "alerts_finished",
            as_of=day.isoformat(),
            active=report.active,
            raised=report.raised,
            escalated=report.escalated,
            cleared=report.cleared,
            updated=report.updated,
            planned=report.planned,
            sent=report.sent,
            failed=report.failed,
            uncertain=report.uncertain,
            retry=report.retry,
            skipped=report.skipped,
            lapsed=report.lapsed,
            duration_s=round(time.perf_counter() - started, 3),
        )
    return report


def _expire(
    conn: Connection, company_id: int, now: dt.datetime, report: Report
) -> None:
    log = logs.get()
    for notice in ledger.expire_leases(conn, company_id, now):
        report.lapsed += 1
        log.error(
            "alert_notice_uncertain",
            key=notice.key,
            target=notice.target,
            change=notice.event,
            kind=notice.alert.kind,
            customer=notice.alert.customer,
            alert_level=notice.level,
            reason="claimed, then the process stopped before recording the outcome",
        )


def _import_covers(
    engine: Engine, company_id: int, folder: Path, now: dt.datetime
) -> None:
    """Insurer decisions dropped as files (sageconnect.credit.covers)."""
    log = logs.get()
    if not folder.is_dir():
        log.warning("covers_folder_missing", folder=folder.name)
        return
    with engine.begin() as conn:
        added, found = import_covers(conn, company_id, folder, now)
        rejects = [replace(r, where=f"covers/{r.where}") for r in found]
        record_side_rejects(conn, company_id, rejects)
    logs.rejected(rejects)
    if added or rejects:
        log.info("covers_imported", added=added, rejected=len(rejects))


def _names(conn: Connection, company_id: int) -> dict[str, str]:
    rows = conn.execute(
        select(customers.c.code, customers.c.name).where(
            customers.c.company_id == company_id
        )
    )
    return {code: name for code, name in rows}  # noqa: C416 - Row typing


def _log_changes(changes: ledger.Changes, report: Report) -> None:
    log = logs.get()
    for e in changes.events:
        fields = {
            "kind": e.kind,
            "customer": e.customer,
            "subject": e.subject or None,
            "alert_level": e.level,
        }
        if e.event == "raised":
            report.raised += 1
            log.warning("alert_raised", occurrence=e.occurrence, **fields)
        elif e.event == "escalated":
            report.escalated += 1
            log.warning("alert_escalated", previous_level=e.previous, **fields)
        else:
            report.cleared += 1
            log.info("alert_cleared", **fields)
    report.updated = changes.updated
    report.planned = changes.notices


def _send_one(
    engine: Engine,
    config: Config,
    code: str,
    notice: ledger.NoticeRow,
    target: AlertTarget,
    *,
    customer_name: str,
    clock: Clock,
    lease: dt.timedelta,
    report: Report,
) -> None:
    a = notice.alert
    log = logs.get().bind(
        key=notice.key,
        target=notice.target,
        change=notice.event,
        kind=a.kind,
        customer=a.customer,
        subject=a.subject or None,
        alert_level=notice.level,
    )
    with engine.begin() as conn:
        attempt = ledger.claim(conn, notice.id, clock.now(), lease)
    if attempt is None:
        report.skipped += 1
        log.info("alert_notice_skipped", reason="already claimed")
        return
    failpoints.hit("alert.after_claim_commit")
    company = config.companies[code]
    message = message_for(
        notice,
        company=code,
        company_name=company.name,
        currency=company.currency,
        customer_name=customer_name,
    )
    try:
        delivery = target.send(message)
    except Exception as exc:  # noqa: BLE001 - it may have left: never resend blindly
        delivery = Delivery("uncertain", detail=f"{type(exc).__name__}"[:300])
    failpoints.hit("alert.after_send_before_record")
    with engine.begin() as conn:
        state = ledger.finish(conn, notice.id, attempt, delivery, clock.now())
    detail = delivery.detail or None
    if state == "sent":
        report.sent += 1
        report.keys.append(notice.key)
        log.info(
            "alert_notice_sent",
            provider_ref=delivery.provider_ref or None,
            detail=detail,
        )
    elif state == "planned":
        report.retry += 1
        log.warning("alert_notice_retry", detail=detail)
    elif state == "uncertain":
        report.uncertain += 1
        log.error("alert_notice_uncertain", detail=detail)
    else:
        report.failed += 1
        log.error("alert_notice_failed", detail=detail)
