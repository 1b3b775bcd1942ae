"""The jobs the daemon schedules: refresh a company's KPIs, e-mail the report.

``refresh_company`` computes today's figures (in the company's time zone),
stores the day's snapshot (replacing one taken earlier the same day) and
rewrites the HTML report file named by ``[reports] html``, atomically.
``mail_report`` e-mails that report to the finance director at most once per
scheduled slot (kpi/mailing.py).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import Connection, Engine

from sageconnect import logs
from sageconnect.clock import Clock, today
from sageconnect.config import Config
from sageconnect.credit.run import company_policy
from sageconnect.dunning.channels.folder import write_atomically
from sageconnect.kpi import history
from sageconnect.kpi.dashboard import Dashboard, dashboard
from sageconnect.kpi.gather import read_facts
from sageconnect.kpi.html import page
from sageconnect.kpi.mailing import MailOutcome, send_report
from sageconnect.store.open_items import PENDING_DAYS
from sageconnect.store.queries import company_ids


@dataclass(frozen=True, slots=True)
class Refreshed:
    """What ``refresh_company`` did."""

    status: str  # done | not_synced
    as_of: dt.date
    html: Path | None = None


def board_for(
    conn: Connection, config: Config, code: str, company_id: int, as_of: dt.date
) -> Dashboard:
    """Every KPI of one company on ``as_of``, read from the store."""
    company = config.companies[code]
    policy = company_policy(config, code)
    facts = read_facts(
        conn,
        company_id,
        as_of,
        months=config.reports.dso_months,
        pending_days=company.bank.pending_days if company.bank else PENDING_DAYS,
        policy=policy,
        tz=ZoneInfo(company.timezone),
    )
    return dashboard(facts, config.reports, policy)


def html_path(config: Config, code: str) -> Path | None:
    """Where the company's HTML report is written, if anywhere."""
    if config.reports.html is None:
        return None
    return config.resolve_path(config.reports.html.replace("{company}", code))


def render_html(
    conn: Connection,
    config: Config,
    code: str,
    company_id: int,
    *,
    board: Dashboard,
    now: dt.datetime,
) -> str:
    """The HTML report of ``board``, with the DSO trend of the stored snapshots."""
    company = config.companies[code]
    since = board.as_of - dt.timedelta(days=config.reports.history_days)
    return page(
        board,
        history.trend(conn, company_id, since, board.as_of),
        company=company.name,
        currency=company.currency,
        generated=now.astimezone(ZoneInfo(company.timezone)),
        doubtful_after=config.reports.doubtful_after_days,
    )


def refresh_company(
    config: Config, code: str, engine: Engine, clock: Clock
) -> Refreshed:
    """Store today's KPI snapshot and rewrite the HTML report (daemon job)."""
    started = time.perf_counter()
    day = today(clock, ZoneInfo(config.companies[code].timezone))
    log = logs.get()
    with structlog.contextvars.bound_contextvars(company=code):
        with engine.begin() as conn:
            company_id = company_ids(conn).get(code)
            if company_id is None:
                log.warning("company_not_synced")
                return Refreshed("not_synced", day)
            board = board_for(conn, config, code, company_id, day)
            history.save(conn, company_id, board, clock.now())
        target = html_path(config, code)
        if target is not None:
            with engine.connect() as conn:
                text = render_html(
                    conn, config, code, company_id, board=board, now=clock.now()
                )
            target.parent.mkdir(parents=True, exist_ok=True)
            mode = int(config.reports.html_mode, 8)
            write_atomically(target, text.encode(), mode=mode)
        r = board.ratios
        log.info(
            "kpi_refreshed",
            as_of=day.isoformat(),
            receivable=str(board.aged_total.total),
            overdue=str(board.aged_total.overdue),
            dso_countback=None if r.dso_countback is None else str(r.dso_countback),
            cei=None if r.cei is None else str(r.cei),
            html=str(target) if target else None,
            duration_s=round(time.perf_counter() - started, 3),
        )
    return Refreshed("done", day, target)


def mail_report(config: Config, code: str, engine: Engine, clock: Clock) -> MailOutcome:
    """E-mail the HTML report to [reports.mail] if a slot is due and not yet sent."""
    settings = config.reports.mail
    if settings is None:
        return MailOutcome("not_configured")
    company = config.companies[code]
    with structlog.contextvars.bound_contextvars(company=code):
        with engine.connect() as conn:
            company_id = company_ids(conn).get(code)
            if company_id is None:
                logs.get().warning("company_not_synced")
                return MailOutcome("not_synced")

        def build() -> tuple[Dashboard, str]:
            day = today(clock, ZoneInfo(company.timezone))
            with engine.begin() as conn:
                board = board_for(conn, config, code, company_id, day)
                history.save(conn, company_id, board, clock.now())
                text = render_html(
                    conn, config, code, company_id, board=board, now=clock.now()
                )
            return board, text

        return send_report(
            engine,
            company_id,
            settings,
            code=code,
            company_name=company.name,
            currency=company.currency,
            timezone=ZoneInfo(company.timezone),
            clock=clock,
            build=build,
        )
