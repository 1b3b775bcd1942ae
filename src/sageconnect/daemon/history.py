"""The run history: one row per job run, unique per company, job and slot.

A slot (the scheduled time) runs at most once, whichever daemon or restart
gets to it first: the row is inserted before the job starts. ``sageconnect
status`` reads the last row of each job.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import Connection, and_, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from sageconnect.store.tables import job_runs


@dataclass(frozen=True, slots=True, kw_only=True)
class Run:
    """One recorded run of a job."""

    company: str
    job: str
    scheduled_for: dt.datetime
    started_at: dt.datetime
    finished_at: dt.datetime | None
    outcome: str
    runner: str
    detail: str | None
    figures: dict[str, int]


def begin(
    conn: Connection,
    *,
    company: str,
    job: str,
    scheduled_for: dt.datetime,
    now: dt.datetime,
    runner: str,
    exclusive: bool = True,
) -> int | None:
    """Record a run as started; None if this slot already ran (here or elsewhere).

    A run asked for by hand (``exclusive=False``) is never refused: a slot
    taken moves on by a microsecond.
    """
    for shift in range(1 if exclusive else 1000):
        try:
            with conn.begin_nested():
                return int(
                    conn.execute(
                        insert(job_runs).values(
                            company=company,
                            job=job,
                            scheduled_for=_utc(scheduled_for)
                            + dt.timedelta(microseconds=shift),
                            started_at=_utc(now),
                            outcome="running",
                            runner=runner[:200],
                        )
                    ).inserted_primary_key[0]  # type: ignore[index]
                )
        except IntegrityError:
            continue
    return None


def finish(
    conn: Connection,
    run: int,
    *,
    outcome: str,
    now: dt.datetime,
    detail: str | None = None,
    figures: dict[str, int] | None = None,
) -> None:
    conn.execute(
        update(job_runs)
        .where(job_runs.c.id == run)
        .values(
            finished_at=_utc(now),
            outcome=outcome,
            detail=detail[:500] if detail else None,
            figures=json.dumps(figures, sort_keys=True) if figures else None,
        )
    )


def abandon(conn: Connection, companies: list[str], now: dt.datetime) -> int:
    """Runs left 'running' by a daemon that died: marked abandoned.

    Called with the companies this daemon holds: nobody else runs their jobs.
    """
    done = conn.execute(
        update(job_runs)
        .where(job_runs.c.company.in_(companies), job_runs.c.outcome == "running")
        .values(outcome="abandoned", finished_at=_utc(now))
    )
    return int(done.rowcount or 0)


def last_runs(conn: Connection, companies: list[str]) -> dict[tuple[str, str], Run]:
    """The latest run of each (company, job)."""
    latest = (
        select(
            job_runs.c.company,
            job_runs.c.job,
            func.max(job_runs.c.started_at).label("at"),
        )
        .where(job_runs.c.company.in_(companies))
        .group_by(job_runs.c.company, job_runs.c.job)
        .subquery()
    )
    rows = conn.execute(
        select(job_runs)
        .join(
            latest,
            and_(
                job_runs.c.company == latest.c.company,
                job_runs.c.job == latest.c.job,
                job_runs.c.started_at == latest.c.at,
            ),
        )
        .order_by(job_runs.c.id)
    ).mappings()
    found: dict[tuple[str, str], Run] = {}
    for row in rows:
        found[(row["company"], row["job"])] = Run(
            company=row["company"],
            job=row["job"],
            scheduled_for=_aware(row["scheduled_for"]),
            started_at=_aware(row["started_at"]),
            finished_at=_aware(row["finished_at"]) if row["finished_at"] else None,
            outcome=row["outcome"],
            runner=row["runner"],
            detail=row["detail"],
            figures=json.loads(row["figures"]) if row["figures"] else {},
        )
    return found


def last_slots(
    conn: Connection, companies: list[str]
) -> dict[tuple[str, str], dt.datetime]:
    """The latest slot recorded for each (company, job): where catch-up starts."""
    rows = conn.execute(
        select(job_runs.c.company, job_runs.c.job, func.max(job_runs.c.scheduled_for))
        .where(job_runs.c.company.in_(companies))
        .group_by(job_runs.c.company, job_runs.c.job)
    )
    return {(c, j): _aware(at) for c, j, at in rows}


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC)


def _aware(moment: dt.datetime) -> dt.datetime:
    """SQLite gives naive datetimes back: they were stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
