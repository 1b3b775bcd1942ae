"""Schedules against an injected clock: DST changes, jumps, restarts, catch-up."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, text
from structlog.testing import capture_logs

from sageconnect.clock import FixedClock
from sageconnect.config import load
from sageconnect.daemon.holidays import closer
from sageconnect.daemon.runner import Runner, Scheduled, scheduled_jobs
from sageconnect.daemon.schedule import Schedule
from sageconnect.daemon.settings import When
from sageconnect.daemon.table import Context, JobKind, Outcome
from sageconnect.store.engine import open_store
from support import write_config

PARIS = ZoneInfo("Europe/Paris")
NINE = When(at=("09:00",))  # business days


def paris(year: int, month: int, day: int, hour: int, minute: int) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=PARIS)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    yield engine
    engine.dispose()


class Probe:
    """A job that records when it ran, by the injected clock."""

    def __init__(self, tmp_path: Path, engine: Engine, clock: FixedClock) -> None:
        self.config = load(write_config(tmp_path, "sqlite:///store.db", "fec"))
        self.engine = engine
        self.clock = clock
        self.ran: list[dt.datetime] = []

    def run(self, ctx: Context, code: str) -> Outcome:
        assert code == "acme"
        self.ran.append(ctx.clock.now())
        return Outcome()

    def runner(self, when: When = NINE) -> Runner:
        """A fresh runner, as after a restart: it reads the history first."""
        ctx = Context(self.config, self.engine, self.clock)
        job = Scheduled("acme", JobKind("probe", self.run), Schedule(when, PARIS))
        runner = Runner(ctx, [job])
        runner.load()
        return runner

    def walk(self, runner: Runner, until: dt.datetime, step: dt.timedelta) -> None:
        while self.clock.now() < until:
            self.clock.advance(step)
            runner.tick()


def test_nine_oclock_job_runs_once_per_business_day_across_2026_dst_changes(
    tmp_path: Path, engine: Engine
) -> None:
    """Ticking a clock every 13 minutes from 23 March to 1 November 2026 runs the
    09:00 job once on each weekday, at 09:00 Paris time, on both sides of the
    29 March and 25 October clock changes, and never on a weekend."""
    clock = FixedClock(paris(2026, 3, 23, 0, 0))
    probe = Probe(tmp_path, engine, clock)
    probe.walk(probe.runner(), paris(2026, 11, 2, 0, 0), dt.timedelta(minutes=13))
    days = [r.astimezone(PARIS).date() for r in probe.ran]
    expected = [
        dt.date(2026, 3, 23) + dt.timedelta(days=n)
        for n in range((dt.date(2026, 11, 1) - dt.date(2026, 3, 23)).days + 1)
        if (dt.date(2026, 3, 23) + dt.timedelta(days=n)).weekday() < 5
    ]
    assert days == expected
    assert {dt.date(2026, 3, 27), dt.date(2026, 3, 30)} <= set(days)
    assert {dt.date(2026, 10, 23), dt.date(2026, 10, 26)} <= set(days)
    for ran in probe.ran:
        local = ran.astimezone(PARIS)
        assert dt.time(9, 0) <= local.time() < dt.time(9, 13)
    with engine.connect() as conn:
        slots = conn.execute(
            text("SELECT scheduled_for FROM job_runs WHERE job = 'probe'")
        ).scalars()
        hours = {
            dt.datetime.fromisoformat(str(s)).replace(tzinfo=dt.UTC).astimezone(PARIS)
            for s in slots
        }
    assert len(hours) == len(expected)
    assert {(h.hour, h.minute) for h in hours} == {(9, 0)}


def test_the_trigger_wakes_at_nine_paris_time_on_both_sides_of_each_change() -> None:
    """APScheduler's trigger for 09:00 on business days gives 08:00 UTC before the
    March change and 07:00 UTC after; 07:00 UTC before October's and 08:00 after."""
    trigger = Schedule(NINE, PARIS).trigger()

    def fires(start: dt.datetime, count: int) -> list[dt.datetime]:
        found, moment = [], trigger.get_next_fire_time(None, start)
        for _ in range(count):
            found.append(moment.astimezone(dt.UTC))
            moment = trigger.get_next_fire_time(
                moment, moment + dt.timedelta(seconds=1)
            )
        return found

    utc = dt.UTC
    assert fires(paris(2026, 3, 27, 0, 0), 2) == [
        dt.datetime(2026, 3, 27, 8, 0, tzinfo=utc),
        dt.datetime(2026, 3, 30, 7, 0, tzinfo=utc),
    ]
    assert fires(paris(2026, 10, 23, 0, 0), 2) == [
        dt.datetime(2026, 10, 23, 7, 0, tzinfo=utc),
        dt.datetime(2026, 10, 26, 8, 0, tzinfo=utc),
    ]


def test_a_clock_set_back_two_hours_does_not_run_the_day_again(
    tmp_path: Path, engine: Engine
) -> None:
    """After today's 09:00 run, the clock jumping from 10:00 back to 08:00 and
    running on to 11:00 gives no second run."""
    clock = FixedClock(paris(2026, 6, 10, 8, 0))
    probe = Probe(tmp_path, engine, clock)
    runner = probe.runner()
    probe.walk(runner, paris(2026, 6, 10, 10, 0), dt.timedelta(minutes=5))
    assert len(probe.ran) == 1
    clock.advance(dt.timedelta(hours=-2))
    probe.walk(runner, paris(2026, 6, 10, 11, 0), dt.timedelta(minutes=5))
    assert len(probe.ran) == 1


def test_a_jump_of_three_days_gives_one_coalesced_catch_up(
    tmp_path: Path, engine: Engine
) -> None:
    """Three missed business days (a suspended machine) give one run on waking
    at 10:00, standing for today's 09:00 slot, not four runs."""
    clock = FixedClock(paris(2026, 6, 15, 8, 0))  # a Monday
    probe = Probe(tmp_path, engine, clock)
    runner = probe.runner()
    runner.tick()
    clock.advance(dt.timedelta(days=3, hours=2))  # Thursday 10:00
    runner.tick()
    runner.tick()
    assert [r.astimezone(PARIS) for r in probe.ran] == [paris(2026, 6, 18, 10, 0)]
    with engine.connect() as conn:
        (slot,) = conn.execute(text("SELECT scheduled_for FROM job_runs")).scalars()
    assert str(slot).startswith("2026-06-18 07:00:00")  # 09:00 Paris, stored in UTC


def test_a_slot_older_than_the_grace_is_logged_missed_not_run(
    tmp_path: Path, engine: Engine
) -> None:
    """Waking at 20:00, eleven hours after 09:00 (grace: six), runs nothing and
    logs job_missed once; the next day's 09:00 runs as usual."""
    clock = FixedClock(paris(2026, 6, 15, 8, 0))
    probe = Probe(tmp_path, engine, clock)
    runner = probe.runner()
    runner.tick()  # 08:00: nothing due
    probe.ran.clear()
    clock.advance(dt.timedelta(hours=1, minutes=1))
    runner.tick()  # Monday 09:01: runs
    clock.advance(dt.timedelta(days=1, hours=11))  # Tuesday 20:01
    with capture_logs() as logged:
        runner.tick()
        runner.tick()
    assert len(probe.ran) == 1
    assert [e["event"] for e in logged] == ["job_missed"]
    probe.walk(runner, paris(2026, 6, 17, 9, 30), dt.timedelta(minutes=10))
    assert [r.astimezone(PARIS).date() for r in probe.ran] == [
        dt.date(2026, 6, 15),
        dt.date(2026, 6, 17),
    ]


def test_after_a_restart_a_missed_slot_runs_once_and_only_once(
    tmp_path: Path, engine: Engine
) -> None:
    """A daemon down over Tuesday 09:00 catches it up at 10:00 on restart; a
    second restart five minutes later finds it in the history and runs nothing."""
    clock = FixedClock(paris(2026, 6, 15, 8, 55))
    probe = Probe(tmp_path, engine, clock)
    probe.walk(probe.runner(), paris(2026, 6, 15, 9, 10), dt.timedelta(minutes=5))
    clock.advance(dt.timedelta(days=1, minutes=50))  # Tuesday 10:00, new process
    probe.runner().tick()
    clock.advance(dt.timedelta(minutes=5))
    probe.runner().tick()
    assert [r.astimezone(PARIS) for r in probe.ran] == [
        paris(2026, 6, 15, 9, 0),
        paris(2026, 6, 16, 10, 0),
    ]


def test_an_interval_job_runs_once_per_period(tmp_path: Path, engine: Engine) -> None:
    """A sync every 15 minutes, ticked every minute for two hours, runs 8 times."""
    clock = FixedClock(paris(2026, 10, 25, 1, 30))  # across the October change
    probe = Probe(tmp_path, engine, clock)
    runner = probe.runner(When(every="15m"))
    probe.walk(runner, clock.now() + dt.timedelta(hours=2), dt.timedelta(minutes=1))
    assert len(probe.ran) == 8
    gaps = {b - a for a, b in zip(probe.ran, probe.ran[1:], strict=False)}
    assert gaps == {dt.timedelta(minutes=15)}


def test_business_jobs_skip_french_public_holidays_and_closed_days(
    tmp_path: Path, engine: Engine
) -> None:
    """Through May 2026 the 09:00 send skips 1 May, 8 May, Ascension (14) and Whit
    Monday (25), and a closed day of the config (the 15th); the sync does not."""
    extra = """
[dunning]
default_scenario = "std"
[dunning.scenarios.std]
steps = [{ id = "first", days = 5, channels = ["email"], template = "first_reminder" }]
[dunning.channels.email]
kind = "folder"
path = "outbox"
[daemon]
closed_days = [2026-05-15]
[daemon.jobs]
sync = { at = "09:00", days = "mon-fri" }
"""
    config = load(write_config(tmp_path, "sqlite:///store.db", "fec", extra))
    clock = FixedClock(paris(2026, 4, 30, 23, 0))
    ran: dict[str, list[dt.date]] = {"send": [], "sync": []}

    def recorder(name: str) -> JobKind:
        def run(ctx: Context, _code: str) -> Outcome:
            ran[name].append(ctx.clock.now().astimezone(PARIS).date())
            return Outcome()

        return JobKind(name, run)

    jobs = [
        Scheduled(j.company, recorder(j.kind.name), j.schedule)
        for j in scheduled_jobs(Context(config, engine, clock), ["acme"])
        if j.kind.name in ran
    ]
    runner = Runner(Context(config, engine, clock), jobs)
    while clock.now() < paris(2026, 6, 1, 0, 0):
        clock.advance(dt.timedelta(minutes=20))
        runner.tick()
    weekdays = [
        dt.date(2026, 5, d) for d in range(1, 32) if dt.date(2026, 5, d).weekday() < 5
    ]
    closed = {dt.date(2026, 5, d) for d in (1, 8, 14, 15, 25)}
    assert ran["sync"] == weekdays
    assert ran["send"] == [d for d in weekdays if d not in closed]
    send = next(j for j in jobs if j.kind.name == "send")
    after_14_july = send.schedule.next_after(paris(2026, 7, 13, 10, 0), None)
    assert after_14_july == paris(2026, 7, 15, 9, 0)


def test_a_business_job_on_an_interval_skips_holidays_too() -> None:
    """send = { every = "2h" } sends no reminder on Christmas Day or a closed
    day of the config, as the 09:00 send does not; it goes on the day after."""
    closed = closer("FR", (dt.date(2026, 12, 24),))
    schedule = Schedule(When(every="2h"), PARIS, closed)
    horizon = dt.timedelta(hours=6)
    for day in (24, 25):
        assert schedule.due(None, paris(2026, 12, day, 10, 0), horizon) is None
    last = paris(2026, 12, 23, 16, 0)
    assert schedule.due(last, paris(2026, 12, 25, 18, 0), horizon) is None
    after = paris(2026, 12, 26, 0, 30)
    assert schedule.due(last, after, horizon) == after
    assert schedule.next_after(paris(2026, 12, 24, 10, 0), last) == paris(
        2026, 12, 26, 0, 0
    )


def test_a_run_the_store_cannot_record_is_one_job_failed_then_runs_later(
    tmp_path: Path, engine: Engine
) -> None:
    """The store refusing the run's history row (locked, full, gone) is logged
    job_failed, not swallowed by the scheduler's silenced logger; once the store
    answers again, the slot still runs, once."""
    clock = FixedClock(paris(2026, 6, 15, 8, 0))
    probe = Probe(tmp_path, engine, clock)
    runner = probe.runner()
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE job_runs RENAME TO job_runs_away"))
    clock.advance(dt.timedelta(hours=1, minutes=1))
    with capture_logs() as logged:
        runner.fire(runner.jobs[0])
    (failed,) = [e for e in logged if e["event"] == "job_failed"]
    assert failed["error_class"] == "OperationalError"
    assert failed["job"] == "probe"
    assert probe.ran == []
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE job_runs_away RENAME TO job_runs"))
    clock.advance(dt.timedelta(minutes=10))
    runner.tick()
    runner.tick()
    assert len(probe.ran) == 1
    assert runner.idle()
