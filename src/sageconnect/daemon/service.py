"""``sageconnect run``: the daemon's life, from the lock to the last log line.

Start: lock the store (or the companies, on PostgreSQL), check the channels,
read where each job left off, catch up once what was missed, tell systemd
READY. Then APScheduler wakes the jobs while the main thread beats the
heartbeat. SIGTERM, SIGINT (and Ctrl+Break on Windows) stop it: the step in
flight rolls back (a sync) or finishes and is recorded (a send), within
:data:`STOP_BUDGET` seconds.
"""

from __future__ import annotations

import datetime as dt
import faulthandler
import logging
import os
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.events import (
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobExecutionEvent,
    JobSubmissionEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine, make_url

from sageconnect import __version__, logs, shutdown
from sageconnect.clock import Clock
from sageconnect.config import Config
from sageconnect.daemon.lock import AdvisoryLocks, FileLock, StoreLock, lock_for
from sageconnect.daemon.notify import notify, watchdog_enabled
from sageconnect.daemon.runner import Runner, Scheduled, scheduled_jobs
from sageconnect.daemon.table import Context

EX_OK, EX_TEMPFAIL = 0, 75
STOP_BUDGET = 8.0  # seconds from the signal to the exit: under systemd's 10
_STOP_SIGNALS: tuple[signal.Signals, ...] = (signal.SIGTERM, signal.SIGINT)
if sys.platform == "win32":  # Ctrl+Break
    _STOP_SIGNALS += (signal.SIGBREAK,)


def once(config: Config, clock: Clock, engine: Engine) -> int:
    """``run --once``: every job of every company once, under the same lock.

    A stop signal ends it as it ends the daemon: a send records the message in
    flight, a sync rolls back, the jobs left wait for the next run (exit 75).
    """
    lock = _lock(config, engine)
    if lock is None:
        return EX_TEMPFAIL
    got: list[str] = []
    restore = _stop_gently(got)
    try:
        ctx = Context(config, engine, clock)
        jobs = scheduled_jobs(ctx, list(config.companies))
        status = Runner(ctx, jobs, holds=lock.holds).once()
        if got:
            logs.get().warning(
                "run_interrupted", reason=got[0], left="waits for the next run"
            )
            return max(status, EX_TEMPFAIL)
        return status
    finally:
        restore()
        lock.release()


def _stop_gently(got: list[str]) -> Callable[[], None]:
    """A first SIGTERM/SIGINT asks the job in progress to stop at its next safe
    point; a second one acts as it did before. Returns what restores the
    previous handlers."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None  # only the main thread may set handlers
    previous = {signum: signal.getsignal(signum) for signum in _STOP_SIGNALS}

    def restore() -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler)

    def handler(signum: int, _frame: FrameType | None) -> None:
        got.append(signal.Signals(signum).name)
        shutdown.request()
        restore()

    for signum in previous:
        signal.signal(signum, handler)
    return restore


def serve(config: Config, clock: Clock, engine: Engine) -> int:
    """The daemon: runs until a stop signal; 0 on a clean stop."""
    stop: queue.SimpleQueue[str] = queue.SimpleQueue()
    got: list[str] = []
    _signals(stop, got)
    if hasattr(signal, "SIGUSR1"):  # every thread's stack on stderr, for a stuck daemon
        faulthandler.register(signal.SIGUSR1, all_threads=True)
    lock = _lock(config, engine)
    if lock is None:
        return EX_TEMPFAIL
    try:
        ctx = Context(config, engine, clock)
        ctx.prepare()  # a bad channel or template: ConfigError, exit 78
        jobs = scheduled_jobs(ctx, list(config.companies))
        runner = Runner(ctx, jobs, holds=lock.holds)
        runner.load()
        scheduler = _scheduler(config, runner, jobs)
        logs.get().info(
            "daemon_started",
            version=__version__,
            store=_store_name(config),
            companies=[c for c in config.companies if lock.holds(c)],
            jobs=len(jobs),
            timezone=config.daemon.timezone,
        )
        scheduler.start()
        notify("READY=1")
        notify(f"STATUS=running {len(jobs)} job(s)")
        _beat(stop, runner, scheduler, lock, config.daemon.heartbeat_seconds)
        status = _stop(runner, scheduler, got[0] if got else "lock lost")
        return status if got else EX_TEMPFAIL  # lock lost: let systemd restart us
    finally:
        lock.release()


def _lock(config: Config, engine: Engine) -> StoreLock | None:
    """The store's lock, or None (logged) if another daemon holds it all."""
    companies = list(config.companies)  # [daemon.companies] checked by load()
    lock = lock_for(config.store_url(), engine, companies)
    held = lock.acquire()
    log = logs.get()
    if not held:
        owner = lock.owner() if isinstance(lock, FileLock) else "another daemon"
        log.error(
            "daemon_already_running",
            store=_store_name(config),
            holder=owner,
            reason="another sageconnect holds this store's lock: one at a time",
        )
        return None
    others = [c for c in companies if c not in held]
    if others:
        log.warning("companies_held_elsewhere", companies=others)
    return lock


def _scheduler(
    config: Config, runner: Runner, jobs: list[Scheduled]
) -> BackgroundScheduler:
    zone = ZoneInfo(config.daemon.timezone)
    quiet = logging.getLogger("apscheduler")  # its events are logged below, ours
    quiet.propagate = False
    quiet.addHandler(logging.NullHandler())
    sqlite = make_url(config.store_url()).get_backend_name() == "sqlite"
    workers = config.daemon.workers or (1 if sqlite else 4)  # SQLite: one writer
    grace = config.daemon.misfire_grace_minutes * 60
    scheduler = BackgroundScheduler(
        timezone=zone,
        executors={"default": ThreadPoolExecutor(max_workers=workers)},
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": grace,
        },
    )
    now = runner.ctx.clock.now()
    wall_now = dt.datetime.now(zone)
    for job in jobs:
        extra: dict[str, Any] = {}
        if runner.holds(job.company) and runner.due(job, now) is not None:
            extra["next_run_time"] = wall_now  # catch up once, right away
        scheduler.add_job(
            runner.fire,
            trigger=job.schedule.trigger(),
            args=[job],
            id=job.id,
            name=job.id,
            **extra,
        )
    scheduler.add_listener(_on_event, EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)
    return scheduler


def _on_event(event: JobExecutionEvent | JobSubmissionEvent) -> None:
    company, _, job = str(event.job_id).partition(":")
    if event.code == EVENT_JOB_MAX_INSTANCES:
        logs.get().warning(
            "job_skipped", company=company, job=job, reason="still running"
        )
    else:
        logs.get().warning(
            "job_missed", company=company, job=job, reason="woke up past the grace"
        )


def _beat(
    stop: queue.SimpleQueue[str],
    runner: Runner,
    scheduler: BackgroundScheduler,
    lock: StoreLock,
    every: int,
) -> None:
    """The main thread: watchdog pings, the heartbeat, companies taken over."""
    log = logs.get()
    started = last = time.monotonic()
    watchdog = watchdog_enabled()
    while not _stopped(stop, 1.0):
        if watchdog:
            notify("WATCHDOG=1")
        if time.monotonic() - last < every:
            continue
        last = time.monotonic()
        if isinstance(lock, AdvisoryLocks):
            if not lock.alive():
                log.error("store_lock_lost", reason="the store connection dropped")
                return
            before = set(lock.held)
            taken = [c for c in lock.acquire() if c not in before]
            if taken:
                log.warning("companies_taken_over", companies=taken)
                runner.load(taken)  # where the other daemon left off
        upcoming = [j for j in scheduler.get_jobs() if j.next_run_time is not None]
        soonest = min(upcoming, key=lambda j: j.next_run_time, default=None)
        log.info(
            "daemon_heartbeat",
            uptime_s=round(last - started),
            running=sorted(runner.running),
            runs=runner.counts["runs"],
            failed=runner.counts["failed"],
            next_job=soonest.id if soonest else None,
            next_run=soonest.next_run_time.isoformat() if soonest else None,
        )


def _stop(runner: Runner, scheduler: BackgroundScheduler, reason: str) -> int:
    """Stop the jobs at their next safe point, within the budget."""
    log = logs.get()
    began = time.monotonic()
    notify("STOPPING=1")
    log.info("daemon_stopping", reason=reason, running=sorted(runner.running))
    shutdown.request()
    scheduler.shutdown(wait=False)
    while not runner.idle() and time.monotonic() - began < STOP_BUDGET:
        time.sleep(0.05)
    stuck = not runner.idle()
    if stuck:
        log.error(
            "daemon_stop_timeout",
            running=sorted(runner.running),
            reason="still running: a claimed send becomes uncertain at next start",
        )
    log.info("daemon_stopped", reason=reason, stop_s=round(time.monotonic() - began, 3))
    if stuck:  # worker threads would hold the exit: leave now, as systemd would
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(EX_OK)
    return EX_OK


def _stopped(stop: queue.SimpleQueue[str], timeout: float) -> bool:
    """Whether a stop signal came within ``timeout`` seconds."""
    try:
        stop.get(timeout=timeout)
    except queue.Empty:
        return False
    return True


def _signals(stop: queue.SimpleQueue[str], got: list[str]) -> None:
    """Stop signals put their name on ``stop``.

    A handler runs in the main thread between two bytecodes, maybe while that
    thread holds a lock: one that takes a lock (``threading.Event.set``) can
    wait for itself forever (seen in CI: SIGTERM caught inside ``Event.wait``'s
    re-acquire). ``SimpleQueue.put`` is reentrant and a flag is a store.
    """

    def handler(signum: int, _frame: FrameType | None) -> None:
        got.append(signal.Signals(signum).name)
        shutdown.request()  # a sync in flight starts rolling back now
        stop.put(got[-1])

    for signum in _STOP_SIGNALS:
        signal.signal(signum, handler)


def _store_name(config: Config) -> str:
    return make_url(config.store_url()).render_as_string(hide_password=True)
