"""The HTML report e-mailed to the finance director, at most once per slot.

A slot is a scheduled local time (``[reports.mail] days`` at ``at``, in the
company's time zone). A cycle finds the latest slot that has come, and sends
only when it came less than ``grace_hours`` ago: after downtime the report of
the latest slot goes once, never a backlog.

At most once, as reminders (RELIABILITY.md 1.2): a ``report_mails`` row for
(company, slot) is claimed and committed before any byte leaves; a second
cycle finds it and sends nothing. A refusal before the message was handed over
(``retry``) frees the slot for the next cycle; a drop after it is
``uncertain``: reported (``report_mail_uncertain``), never resent; a claim
whose lease ran out (the process died while sending) becomes uncertain too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from sageconnect import logs
from sageconnect.clock import Clock
from sageconnect.credit.notify import ManyTo, smtp_settings  # all in To
from sageconnect.dunning.formatting import day as short_day
from sageconnect.dunning.formatting import money
from sageconnect.dunning.message import Delivery, Outgoing, Recipient, Rendered
from sageconnect.kpi.dashboard import Dashboard
from sageconnect.kpi.html import days, percent
from sageconnect.kpi.settings import WEEKDAYS, ReportMail
from sageconnect.store.tables import report_mails

LEASE = dt.timedelta(minutes=15)
LAPSED = "claimed, then the process stopped before recording the outcome"


@dataclass(frozen=True, slots=True)
class MailOutcome:
    """not_configured | not_synced | not_due | already | sent | retry | failed |
    uncertain; ``slot`` the local slot it was about."""

    status: str
    slot: str = ""
    detail: str = ""


def due_slot(
    now: dt.datetime, settings: ReportMail, tz: ZoneInfo
) -> dt.datetime | None:
    """The latest slot at or before ``now``, if it came within the grace period."""
    local = now.astimezone(tz)
    for back in range(8):
        day = local.date() - dt.timedelta(days=back)
        if WEEKDAYS[day.weekday()] not in settings.days:
            continue
        slot = dt.datetime.combine(day, settings.at, tzinfo=tz)
        if slot <= local:
            late = local - slot
            return slot if late <= dt.timedelta(hours=settings.grace_hours) else None
    return None


def send_report(
    engine: Engine,
    company_id: int,
    settings: ReportMail,
    *,
    code: str,
    company_name: str,
    currency: str,
    timezone: ZoneInfo,
    clock: Clock,
    build: Callable[[], tuple[Dashboard, str]],
    lease: dt.timedelta = LEASE,
) -> MailOutcome:
    """Send the report of the slot due now, once; see the module's docstring."""
    now = clock.now().astimezone(dt.UTC)
    _expire(engine, company_id, now)
    slot = due_slot(now, settings, timezone)
    if slot is None:
        return MailOutcome("not_due")
    name = slot.strftime("%Y-%m-%dT%H:%M")
    attempt = uuid.uuid4().hex
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(report_mails).values(
                    company_id=company_id,
                    slot=name,
                    state="claimed",
                    attempt_id=attempt,
                    claimed_at=now,
                    lease_until=now + lease,
                )
            )
    except IntegrityError:
        with engine.connect() as conn:
            state = conn.execute(
                select(report_mails.c.state).where(
                    report_mails.c.company_id == company_id,
                    report_mails.c.slot == name,
                )
            ).scalar_one()
        return MailOutcome("already", name, state)
    try:
        board, html = build()
        outgoing = _outgoing(
            board,
            html,
            key=_key(code, name),
            code=code,
            company_name=company_name,
            currency=currency,
            to=settings.to[0],
        )
        channel = _channel(settings, clock)
    except BaseException:
        _free(engine, company_id, name, attempt)  # nothing left: try next cycle
        raise
    # From here bytes may leave: an exception (Ctrl+C while the server answers
    # the body) leaves the claim, whose lease runs out into uncertain.
    delivery = channel.send(outgoing)
    return _finish(
        engine, company_id, slot=name, attempt=attempt, delivery=delivery, now=now
    )


def _finish(
    engine: Engine,
    company_id: int,
    *,
    slot: str,
    attempt: str,
    delivery: Delivery,
    now: dt.datetime,
) -> MailOutcome:
    log = logs.get()
    if delivery.status == "retry":
        _free(engine, company_id, slot, attempt)
        log.warning("report_mail_retry", slot=slot, detail=delivery.detail)
        return MailOutcome("retry", slot, delivery.detail)
    with engine.begin() as conn:
        conn.execute(
            update(report_mails)
            .where(
                report_mails.c.company_id == company_id,
                report_mails.c.slot == slot,
                report_mails.c.attempt_id == attempt,
                report_mails.c.state == "claimed",
            )
            .values(
                state=delivery.status,
                lease_until=None,
                finished_at=now.astimezone(dt.UTC),
                detail=delivery.detail[:500] or None,
            )
        )
    if delivery.status == "sent":
        log.info("report_mail_sent", slot=slot, detail=delivery.detail)
    elif delivery.status == "failed":
        log.error("report_mail_failed", slot=slot, detail=delivery.detail)
    else:
        log.error("report_mail_uncertain", slot=slot, detail=delivery.detail)
    return MailOutcome(delivery.status, slot, delivery.detail)


def _free(engine: Engine, company_id: int, slot: str, attempt: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            delete(report_mails).where(
                report_mails.c.company_id == company_id,
                report_mails.c.slot == slot,
                report_mails.c.attempt_id == attempt,
            )
        )


def _expire(engine: Engine, company_id: int, now: dt.datetime) -> None:
    """Claims whose lease ran out: the process died while sending: uncertain."""
    with engine.begin() as conn:
        lapsed = (
            conn.execute(
                update(report_mails)
                .where(
                    report_mails.c.company_id == company_id,
                    report_mails.c.state == "claimed",
                    report_mails.c.lease_until < now,
                )
                .values(
                    state="uncertain",
                    lease_until=None,
                    detail=LAPSED,
                )
                .returning(report_mails.c.slot)
            )
            .scalars()
            .all()
        )
    for slot in lapsed:
        logs.get().error(
            "report_mail_uncertain",
            slot=slot,
            reason=LAPSED,
        )


def _key(code: str, slot: str) -> str:
    return hashlib.sha256(f"report\x1f{code}\x1f{slot}".encode()).hexdigest()[:32]


def _channel(settings: ReportMail, clock: Clock) -> ManyTo:
    return ManyTo(smtp_settings(settings), settings.to, now=clock.now)


def _outgoing(
    board: Dashboard,
    html: str,
    *,
    key: str,
    code: str,
    company_name: str,
    currency: str,
    to: str,
) -> Outgoing:
    """A short French summary in the body, the whole report attached."""
    r, t = board.ratios, board.aged_total
    when = short_day(board.as_of, "fr")
    lines = [
        f"Créances clients de {company_name} au {when}.",
        "",
        f"Encours : {money(t.total, currency, 'fr')}",
        f"En retard : {money(t.overdue, currency, 'fr')}",
        f"DSO (count-back) : {days(r.dso_countback)}",
        f"Meilleur DSO possible : {days(r.best_dso)}",
        f"CEI : {percent(r.cei)}",
        "Prévu sur les semaines à venir : "
        + money(board.forecast.weeks[-1].cumulative, currency, "fr"),
        f"Clients à appeler : {len(board.priority)}",
        "",
        "Le rapport complet (graphiques, liste d'appels) est en pièce jointe.",
    ]
    return Outgoing(
        key=key,
        channel="email",
        company=code,
        customer="",
        recipient=Recipient(name="", email=to),
        rendered=Rendered(
            subject=f"[sageconnect] Créances clients – {company_name} – {when}",
            text="\n".join(lines) + "\n",
        ),
        attachments=(
            (
                f"creances-{code}-{board.as_of.isoformat()}.html",
                "text/html",
                html.encode(),
            ),
        ),
    )
