"""What the integrator reads: `status`, and a failing job among the others."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from structlog.testing import capture_logs

from sageconnect.cli import main
from sageconnect.clock import FixedClock
from sageconnect.config import load
from sageconnect.daemon.runner import Runner, Scheduled
from sageconnect.daemon.schedule import Schedule
from sageconnect.daemon.settings import When
from sageconnect.daemon.table import Context, JobKind, Outcome
from sageconnect.store.engine import open_store
from support import fec_lines, write_config

LINES = [
    "VE|Ventes|1|20260105|41100000|Clients|C1|Client 1|FA1|20260105|Facture FA1|100,00|0,00|||20260105||",
    "VE|Ventes|1|20260105|70600000|Prestations|||FA1|20260105|Facture FA1|0,00|100,00|||20260105||",
]
BROKEN = """
[companies.beta]
name = "Beta SARL"

[companies.beta.source]
mapping = "fec"
path = "nowhere"
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    (tmp_path / "fec").mkdir()
    (tmp_path / "fec" / "1FEC20261231.txt").write_text(
        fec_lines(*LINES), encoding="utf-8"
    )
    return write_config(tmp_path, "sqlite:///store.db", "fec", BROKEN)


def test_status_shows_each_jobs_last_run_outcome_and_next_run(
    config: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    """After run --once with one company unreadable (exit 69): acme's sync is ok
    with its counts, beta's failed with the reason, the nightly full read never
    ran, and runs next at 01:30 Paris time."""
    assert main(["run", "--once", "-c", str(config)], clock) == 69
    capsys.readouterr()
    assert main(["status", "-c", str(config), "--format", "json"], clock) == 0
    shown = json.loads(capsys.readouterr().out)
    jobs = {(j["company"], j["job"]): j for j in shown["jobs"]}
    assert jobs["acme", "sync"]["outcome"] == "ok"
    assert "read=2" in jobs["acme", "sync"]["detail"]
    assert jobs["beta", "sync"]["outcome"] == "failed"
    assert "no file matches the source path" in jobs["beta", "sync"]["detail"]
    assert jobs["beta", "full_sync"]["outcome"] == "never run"
    assert jobs["acme", "full_sync"]["next_run"] == "2026-11-25 01:30:00"  # Paris
    assert shown["daemon"] == "not running"
    companies = {c["company"]: c for c in shown["companies"]}
    assert companies["acme"] == {
        "company": "acme",
        "synced": True,
        "rows_rejected": 0,
        "reminders_uncertain": 0,
        "alerts_open": 0,
        "notes_pending": 0,
    }
    assert companies["beta"]["synced"] is False


def test_a_failing_job_logs_one_event_and_the_others_run(
    config: Path, tmp_path: Path
) -> None:
    """A job raising an unexpected error gives one job_failed (with its traceback)
    and a job_finished outcome=failed; the next job still runs."""
    clock = FixedClock(dt.datetime(2026, 11, 24, 8, 0, tzinfo=dt.UTC))
    engine = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    ran: list[str] = []

    def broken(_ctx: Context, _code: str) -> Outcome:
        raise RuntimeError("disk full")

    def fine(_ctx: Context, code: str) -> Outcome:
        ran.append(code)
        return Outcome()

    every = Schedule(When(every="1m"), ZoneInfo("Europe/Paris"))
    jobs = [
        Scheduled("acme", JobKind("broken", broken), every),
        Scheduled("acme", JobKind("fine", fine), every),
    ]
    try:
        runner = Runner(Context(load(config), engine, clock), jobs)
        with capture_logs() as logged:
            runner.tick()
    finally:
        engine.dispose()
    failed = [e for e in logged if e["event"] == "job_failed"]
    assert len(failed) == 1
    assert failed[0]["error_class"] == "RuntimeError"
    assert failed[0]["exc_info"] is True
    outcomes = [e["outcome"] for e in logged if e["event"] == "job_finished"]
    assert outcomes == ["failed", "ok"]  # broken, then fine
    assert ran == ["acme"]
