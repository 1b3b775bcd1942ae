"""The daemon as the integrator runs it: a real process, a fast schedule, signals."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from processes import Daemon
from support import ROOT, fec_lines, write_config

FAST = """
[daemon]
heartbeat_seconds = 1
holidays = "none"  # the real clock: a public holiday would stop the send

[daemon.jobs]
sync = { every = "1s" }
full_sync = false
"""


def _invoices(count: int) -> list[str]:
    rows = []
    for n in range(count):
        number = f"FA{n:05d}"
        rows += [
            f"VE|Ventes|{n}|20260105|41100000|Clients|C{n % 50}|Client {n % 50}|{number}|20260105|Facture {number}|100,00|0,00|||20260105||",
            f"VE|Ventes|{n}|20260105|70600000|Prestations|||{number}|20260105|Facture {number}|0,00|100,00|||20260105||",
        ]
    return rows


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "fec").mkdir()
    (tmp_path / "fec" / "1FEC20261231.txt").write_text(
        fec_lines(*_invoices(20)), encoding="utf-8"
    )
    return tmp_path


@pytest.fixture
def daemons() -> Iterator[list[Daemon]]:
    started: list[Daemon] = []
    yield started
    for daemon in started:
        daemon.kill()


def _count(db: Path, sql: str) -> int:
    with closing(sqlite3.connect(db)) as conn:
        return int(conn.execute(sql).fetchone()[0])


def test_jobs_run_on_schedule_and_a_signal_stops_the_daemon(
    folder: Path, daemons: list[Daemon]
) -> None:
    """Started with a 1-second sync, the daemon syncs again and again, beats its
    heartbeat, and stops cleanly (exit 0) on SIGTERM; status shows the runs."""
    config = write_config(folder, "sqlite:///store.db", "fec", FAST)
    daemon = Daemon(config)
    daemons.append(daemon)
    daemon.wait_for("daemon_started")
    first = daemon.wait_for("job_finished", job="sync")
    second = daemon.wait_for("job_finished", job="sync")
    beat = daemon.wait_for("daemon_heartbeat")
    status, took = daemon.stop()
    assert status == 0
    assert took < 10
    assert first["outcome"] == second["outcome"] == "ok"
    assert first["company"] == "acme"
    assert beat["runs"] >= 1
    assert daemon.names()[-1] == "daemon_stopped"
    runs = _count(
        folder / "store.db", "SELECT count(*) FROM job_runs WHERE outcome='ok'"
    )
    assert runs >= 2
    shown = subprocess.run(
        [sys.executable, "-m", "sageconnect", "status", "-c", str(config)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "daemon: not running" in shown
    sync_row = next(line for line in shown.splitlines() if " sync " in line)
    assert "every 1s" in sync_row
    assert " ok " in sync_row


def test_a_second_daemon_on_the_same_store_refuses_to_start(
    folder: Path, daemons: list[Daemon]
) -> None:
    """While one daemon runs, another on the same store exits 75 with
    daemon_already_running naming the holder; status says who runs."""
    config = write_config(folder, "sqlite:///store.db", "fec", FAST)
    first = Daemon(config)
    daemons.append(first)
    first.wait_for("daemon_started")
    second = Daemon(config)
    daemons.append(second)
    refused = second.wait_for("daemon_already_running")
    assert second.wait() == 75
    assert refused["holder"].endswith(f":{first.proc.pid}")
    assert "daemon_started" not in second.names()
    shown = subprocess.run(
        [sys.executable, "-m", "sageconnect", "status", "-c", str(config)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert f"running ({refused['holder']})" in shown
    status, _ = first.stop(signal.SIGINT)
    assert status == 0


def test_sigterm_during_a_sync_rolls_it_back_and_exits_0_within_10_seconds(
    tmp_path: Path, daemons: list[Daemon]
) -> None:
    """A long first sync stopped by SIGTERM leaves no invoice in the store, records
    the run interrupted, and the process exits 0 in under 10 seconds."""
    (tmp_path / "fec").mkdir()
    (tmp_path / "fec" / "1FEC20261231.txt").write_text(
        fec_lines(*_invoices(3000)), encoding="utf-8"
    )
    config = write_config(tmp_path, "sqlite:///store.db", "fec", FAST)
    slow = {"SAGECONNECT_FAILPOINTS": "sync.read_batch=sleep:1"}  # 1 s per 500 rows
    daemon = Daemon(config, env=slow)
    daemons.append(daemon)
    daemon.wait_for("sync_started")
    daemon.wait_for("daemon_started")
    status, took = daemon.stop(signal.SIGTERM)
    assert status == 0
    assert took < 10
    names = daemon.names()
    assert "sync_interrupted" in names
    assert "sync_finished" not in names
    finished = [
        e for e in daemon.events if e["event"] == "job_finished" and e["job"] == "sync"
    ]
    assert [e["outcome"] for e in finished] == ["interrupted"]
    db = tmp_path / "store.db"
    assert _count(db, "SELECT count(*) FROM invoices") == 0
    assert _count(db, "SELECT count(*) FROM checkpoints") == 0
    assert _count(db, "SELECT count(*) FROM sync_runs WHERE status='interrupted'") == 1
    assert _count(db, "SELECT count(*) FROM job_runs WHERE outcome='interrupted'") == 1


def test_a_bad_config_exits_78_naming_each_key(folder: Path) -> None:
    """A business job in the DST gap and a zero heartbeat: exit 78 at once, and
    standard error names daemon.jobs (send at 02:30) and heartbeat_seconds."""
    bad = """
[daemon]
heartbeat_seconds = 0

[daemon.jobs]
send = { at = "02:30" }
"""
    config = write_config(folder, "sqlite:///store.db", "fec", bad)
    done = subprocess.run(
        [sys.executable, "-m", "sageconnect", "run", "-c", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 78
    assert "daemon.heartbeat_seconds = 0" in done.stderr
    assert "daemon.jobs" in done.stderr
    assert "send.at = 02:30: a time outside 02:00-03:00" in done.stderr
    assert not (folder / "store.db").exists()


@pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="no Unix sockets here")
def test_systemd_hears_ready_then_stopping(
    folder: Path, tmp_path_factory: pytest.TempPathFactory, daemons: list[Daemon]
) -> None:
    """Under systemd ($NOTIFY_SOCKET) the daemon reports READY=1 once started and
    STOPPING=1 when told to stop."""
    config = write_config(folder, "sqlite:///store.db", "fec", FAST)
    path = tmp_path_factory.mktemp("notify") / "sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        sock.settimeout(30)
        daemon = Daemon(config, env={"NOTIFY_SOCKET": str(path)})
        daemons.append(daemon)
        ready = sock.recv(4096).decode()
        daemon.wait_for("daemon_started")
        status, _ = daemon.stop()
        rest = []
        sock.settimeout(1)
        while True:
            try:
                rest.append(sock.recv(4096).decode())
            except TimeoutError:
                break
    assert ready == "READY=1"
    assert "STOPPING=1" in rest
    assert status == 0


def test_sigterm_during_a_send_records_the_message_in_flight_then_stops(
    tmp_path: Path, daemons: list[Daemon]
) -> None:
    """SIGTERM while a reminder is on its way: that one is delivered and recorded
    sent, none is left claimed, the rest wait for the next run, exit 0 in < 10 s."""
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    text = text.replace('"fixtures/', f'"{ROOT}/fixtures/')
    text = text.split("\n[daemon]")[0] + (
        '\n[daemon]\nholidays = "none"\n[daemon.jobs]\nsync = { every = "1h" }\n'
        "full_sync = false\n"
        'send = { every = "2s" }\nalerts = false\n'
    )
    config = tmp_path / "config.toml"
    config.write_text(text, encoding="utf-8")
    slow = {"SAGECONNECT_FAILPOINTS": "send.after_claim_commit=sleep:3"}
    daemon = Daemon(config, env=slow)
    daemons.append(daemon)
    db = tmp_path / "var" / "sageconnect.db"
    daemon.wait_for("sync_finished")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if db.exists() and _count(
            db, "SELECT count(*) FROM reminders WHERE state = 'claimed'"
        ):
            break
        time.sleep(0.1)
    status, took = daemon.stop(signal.SIGTERM)
    assert status == 0
    assert took < 10
    with closing(sqlite3.connect(db)) as conn:
        query = "SELECT state, count(*) FROM reminders GROUP BY state"
        states = dict(conn.execute(query).fetchall())
    assert states.get("sent") == 1
    assert "claimed" not in states
    assert states.get("planned", 0) > 5
    finished = next(e for e in daemon.events if e["event"] == "send_finished")
    assert finished["sent"] == 1
    assert finished["interrupted"] is True
    assert "reminder_sent" in daemon.names()


def test_sigterm_during_run_once_records_the_message_in_flight_then_exits_75(
    tmp_path: Path,
) -> None:
    """run --once stopped by SIGTERM (a systemd timer's service stopped, a task
    ended) as the daemon is: the reminder on its way is recorded sent, none is
    left claimed (it would become uncertain), the rest wait; exit 75."""
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text(text.replace('"fixtures/', f'"{ROOT}/fixtures/'), "utf-8")
    env = {**os.environ, "SAGECONNECT_FAILPOINTS": "send.after_claim_commit=sleep:3"}
    db = tmp_path / "var" / "sageconnect.db"
    with subprocess.Popen(
        [sys.executable, "-m", "sageconnect", "run", "--once", "-c", str(config)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    ) as once:
        deadline = time.monotonic() + 60
        claimed = "SELECT count(*) FROM reminders WHERE state = 'claimed'"
        while time.monotonic() < deadline and once.poll() is None:
            with contextlib.suppress(sqlite3.OperationalError):  # no tables yet
                if db.exists() and _count(db, claimed):
                    break
            time.sleep(0.1)
        once.send_signal(signal.SIGTERM)
        _, err = once.communicate(timeout=30)
    assert once.returncode == 75, err[-2000:]
    with closing(sqlite3.connect(db)) as conn:
        query = "SELECT state, count(*) FROM reminders GROUP BY state"
        states = dict(conn.execute(query).fetchall())
    assert states.get("sent") == 1
    assert "claimed" not in states
    assert "run_interrupted" in err


@pytest.mark.skipif(not hasattr(signal, "SIGUSR1"), reason="no SIGUSR1 here")
def test_sigusr1_writes_every_threads_stack_and_the_daemon_goes_on(
    folder: Path, daemons: list[Daemon]
) -> None:
    """An operator facing a stuck daemon sends SIGUSR1: each thread's stack goes
    to standard error (the journal), and the daemon keeps running its jobs."""
    config = write_config(folder, "sqlite:///store.db", "fec", FAST)
    daemon = Daemon(config)
    daemons.append(daemon)
    daemon.wait_for("daemon_started")
    daemon.proc.send_signal(signal.SIGUSR1)
    daemon.wait_for("job_finished", job="sync")
    daemon.wait_for("job_finished", job="sync")  # one begun after the signal
    status, _ = daemon.stop()
    assert status == 0
    stderr = daemon.read_stderr()
    assert "Current thread" in stderr or "Thread 0x" in stderr
    assert "sageconnect/daemon/service.py" in stderr  # the main thread's beat
