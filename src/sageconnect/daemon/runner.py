"""Run jobs: one at a time per company, each slot once, every outcome logged.

``fire`` is what APScheduler calls; ``tick`` does the same for every job at a
given time (start-up catch-up, and tests driving an injected clock); ``once``
is ``run --once``. A job that fails logs one ``job_failed`` event and the
others go on.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import structlog

from sageconnect import logs, shutdown
from sageconnect.daemon import history
from sageconnect.daemon.holidays import closer
from sageconnect.daemon.lock import holder
from sageconnect.daemon.schedule import Schedule
from sageconnect.daemon.settings import NOT_BUSINESS
from sageconnect.daemon.table import JOBS, Context, JobKind, Outcome
from sageconnect.errors import ConfigError, Stopped

EX_SOFTWARE, EX_CONFIG = 70, 78


@dataclass(frozen=True, slots=True)
class Scheduled:
    """One job of one company, with its schedule."""

    company: str
    kind: JobKind
    schedule: Schedule

    @property
    def id(self) -> str:
        return f"{self.company}:{self.kind.name}"


def scheduled_jobs(ctx: Context, companies: list[str]) -> list[Scheduled]:
    """Every job that is on, company by company, in the job table's order."""
    daemon = ctx.config.daemon
    zone = ZoneInfo(daemon.timezone)
    closed = closer(daemon.holidays, daemon.closed_days)
    return [
        Scheduled(
            code,
            kind,
            Schedule(
                slots[kind.name],
                zone,
                None if kind.name in NOT_BUSINESS else closed,
            ),
        )
        for code in companies
        for slots in (daemon.schedule(code),)
        for kind in JOBS
        if kind.name in slots and kind.enabled(ctx.config, code)
    ]


class Runner:
    """Runs the scheduled jobs of the companies this daemon holds."""

    def __init__(
        self,
        ctx: Context,
        jobs: list[Scheduled],
        *,
        holds: Callable[[str], bool] = lambda _code: True,
    ) -> None:
        self.ctx = ctx
        self.jobs = jobs
        self.holds = holds
        self.name = holder()
        self.horizon = dt.timedelta(minutes=ctx.config.daemon.misfire_grace_minutes)
        self.running: set[str] = set()
        self.counts = {"runs": 0, "failed": 0}
        self._last: dict[tuple[str, str], dt.datetime] = {}
        self._company_locks = {j.company: threading.Lock() for j in jobs}
        self._guard = threading.Lock()
        self._active = 0  # calls of fire() in progress (running or waiting)

    def load(self, companies: list[str] | None = None) -> None:
        """Read where each job left off, and close runs a dead daemon left open
        (for ``companies`` just taken over, or every company held)."""
        codes = sorted(
            {j.company for j in self.jobs if self.holds(j.company)}
            if companies is None
            else companies
        )
        if not codes:
            return
        with self.ctx.engine.begin() as conn:
            left = history.abandon(conn, codes, self.ctx.clock.now())
            self._last.update(history.last_slots(conn, codes))
        if left:
            logs.get().warning("job_runs_abandoned", runs=left)

    def tick(self, now: dt.datetime | None = None) -> None:
        """Run every job that has a slot due now."""
        for job in self.jobs:
            if shutdown.requested():
                return
            self.fire(job, now)

    def due(self, job: Scheduled, now: dt.datetime) -> dt.datetime | None:
        last = self._last.get((job.company, job.kind.name))
        slot = job.schedule.due(last, now, self.horizon)
        if slot is None and job.schedule.missed(last, now):
            logs.get().warning(
                "job_missed",
                company=job.company,
                job=job.kind.name,
                last=last.isoformat() if last else None,
                grace_minutes=int(self.horizon.total_seconds() // 60),
            )
            self._last[(job.company, job.kind.name)] = now
        return slot

    def fire(self, job: Scheduled, now: dt.datetime | None = None) -> None:
        """Run ``job`` if a slot of it is due (APScheduler's callback)."""
        if not self.holds(job.company) or shutdown.requested():
            return
        with self._guard:
            self._active += 1
        try:
            slot = self.due(job, now or self.ctx.clock.now())
            if slot is not None:
                self.run(job, slot)
        except Exception as exc:  # noqa: BLE001 - APScheduler's log is silenced
            # the job's own errors are caught in call(): this is the store
            # refusing the run's history; the slot runs once it answers again
            logs.get().exception(
                "job_failed",
                company=job.company,
                job=job.kind.name,
                error_class=type(exc).__name__,
                reason="the run could not be recorded in the store",
            )
            with self._guard:
                self.counts["failed"] += 1
        finally:
            with self._guard:
                self._active -= 1

    def idle(self) -> bool:
        """Whether no job is running or about to."""
        with self._guard:
            return self._active == 0

    def once(self) -> int:
        """``run --once``: every job of every company once, in order; exit status."""
        status = 0
        failed_sync: set[str] = set()
        for job in self.jobs:
            if not job.kind.in_once or not self.holds(job.company):
                continue
            if shutdown.requested():
                break
            if job.kind.needs_sync and job.company in failed_sync:
                continue
            outcome = self.run(job, self.ctx.clock.now(), exclusive=False)
            if outcome is None:
                continue
            if job.kind.name == "sync" and outcome.status != "ok":
                failed_sync.add(job.company)
            status = max(status, outcome.exit)
        return status

    def run(
        self, job: Scheduled, slot: dt.datetime, *, exclusive: bool = True
    ) -> Outcome | None:
        """One run of ``job`` for ``slot``; None if that slot already ran."""
        key = (job.company, job.kind.name)
        lock = self._company_locks[job.company]
        while not lock.acquire(timeout=0.5):  # the company's other job first
            if shutdown.requested():
                return None
        try:
            with self.ctx.engine.begin() as conn:
                run_id = history.begin(
                    conn,
                    company=job.company,
                    job=job.kind.name,
                    scheduled_for=slot,
                    now=self.ctx.clock.now(),
                    runner=self.name,
                    exclusive=exclusive,
                )
            self._last[key] = max(slot, self._last.get(key, slot))
            if run_id is None:
                return None
            return self._execute(job, run_id, slot)
        finally:
            lock.release()

    def _execute(self, job: Scheduled, run_id: int, slot: dt.datetime) -> Outcome:
        log = logs.get()
        started = time.perf_counter()
        with self._guard:
            self.running.add(job.id)
        try:
            with structlog.contextvars.bound_contextvars(
                company=job.company, job=job.kind.name
            ):
                log.info("job_started", slot=slot.isoformat())
                outcome = self.call(job)
                with self.ctx.engine.begin() as conn:
                    history.finish(
                        conn,
                        run_id,
                        outcome=outcome.status,
                        now=self.ctx.clock.now(),
                        detail=logs.scrub(outcome.detail) if outcome.detail else None,
                        figures=outcome.figures,
                    )
                log.info(
                    "job_finished",
                    outcome=outcome.status,
                    duration_s=round(time.perf_counter() - started, 3),
                    **outcome.figures,
                )
        finally:
            with self._guard:
                self.running.discard(job.id)
        with self._guard:
            self.counts["runs"] += 1
            self.counts["failed"] += outcome.status == "failed"
        return outcome

    def call(self, job: Scheduled) -> Outcome:
        """The job's function; an exception becomes one job_failed event."""
        try:
            return job.kind.run(self.ctx, job.company)
        except Stopped:
            return Outcome("interrupted", detail="stop requested: rolled back")
        except ConfigError as exc:
            logs.get().error(
                "job_failed", error_class="ConfigError", problems=len(exc.problems)
            )
            return Outcome("failed", EX_CONFIG, detail=str(exc.problems[0]))
        except Exception as exc:
            log = logs.get()
            if job.kind.logs_errors:  # its own event carries the traceback
                log.error("job_failed", error_class=type(exc).__name__)  # noqa: TRY400
            else:
                log.exception("job_failed", error_class=type(exc).__name__)
            return Outcome("failed", EX_SOFTWARE, detail=f"{type(exc).__name__}: {exc}")
