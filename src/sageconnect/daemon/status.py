"""``sageconnect status``: per company, each job's last and next run, and the
figures an integrator watches (rows rejected, reminders uncertain, alerts open,
notes pending).

A figure is one entry of :data:`FIGURES`: a name and a count query.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, select

from sageconnect.daemon import history
from sageconnect.daemon.runner import scheduled_jobs
from sageconnect.daemon.table import Context
from sageconnect.report import Row
from sageconnect.store.queries import company_ids
from sageconnect.store.tables import alerts, note_queue, rejects, reminders


def _count(conn: Connection, query: object) -> int:
    return int(conn.execute(query).scalar_one())  # type: ignore[call-overload]


Figure = Callable[[Connection, int], int]
FIGURES: dict[str, Figure] = {
    "rows_rejected": lambda conn, company: _count(
        conn,
        select(func.count())
        .select_from(rejects)
        .where(rejects.c.company_id == company, rejects.c.resolved_run_id.is_(None)),
    ),
    "reminders_uncertain": lambda conn, company: _count(
        conn,
        select(func.count())
        .select_from(reminders)
        .where(reminders.c.company_id == company, reminders.c.state == "uncertain"),
    ),
    "alerts_open": lambda conn, company: _count(
        conn,
        select(func.count())
        .select_from(alerts)
        .where(alerts.c.company_id == company, alerts.c.cleared_at.is_(None)),
    ),
    "notes_pending": lambda conn, company: _count(
        conn,
        select(func.count())
        .select_from(note_queue)
        .where(note_queue.c.company_id == company, note_queue.c.state != "written"),
    ),
}


def job_rows(ctx: Context, companies: list[str]) -> list[Row]:
    """One row per company and job: schedule, last run, outcome, next run."""
    zone = ZoneInfo(ctx.config.daemon.timezone)
    now = ctx.clock.now()
    with ctx.engine.connect() as conn:
        last = history.last_runs(conn, companies)
    rows: list[Row] = []
    for job in scheduled_jobs(ctx, companies):
        run = last.get((job.company, job.kind.name))
        when = job.schedule.when
        rows.append(
            {
                "company": job.company,
                "job": job.kind.name,
                "schedule": _describe(when.every, when.at, when.days, when.cron),
                "last_run": _local(run.started_at, zone) if run else "",
                "outcome": run.outcome if run else "never run",
                "duration_s": _duration(run),
                "next_run": _local(
                    job.schedule.next_after(now, run.scheduled_for if run else None),
                    zone,
                ),
                "detail": _detail(run),
                "runner": run.runner if run else "",
            }
        )
    return rows


def figure_rows(ctx: Context, companies: list[str]) -> list[Row]:
    """One row per company: each figure of :data:`FIGURES`."""
    rows: list[Row] = []
    with ctx.engine.connect() as conn:
        ids = company_ids(conn)
        for code in companies:
            row: Row = {"company": code, "synced": code in ids}
            for name, figure in FIGURES.items():
                row[name] = figure(conn, ids[code]) if code in ids else 0
            rows.append(row)
    return rows


def _describe(
    every: str | None, at: tuple[str, ...] | None, days: str, cron: str | None
) -> str:
    if every is not None:
        return f"every {every}"
    if cron is not None:
        return f"cron {cron}"
    return f"{','.join(at or ())} {'every day' if days == '*' else days}"


def _local(moment: dt.datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


def _duration(run: history.Run | None) -> str:
    if run is None or run.finished_at is None:
        return ""
    return f"{(run.finished_at - run.started_at).total_seconds():.1f}"


def _detail(run: history.Run | None) -> str:
    if run is None:
        return ""
    shown = " ".join(f"{k}={v}" for k, v in sorted(run.figures.items()))
    return "; ".join(x for x in (run.detail or "", shown) if x)
