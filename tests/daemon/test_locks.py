"""One daemon per store on SQLite; one daemon per company on a shared PostgreSQL."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from sageconnect.clock import FixedClock
from sageconnect.config import load
from sageconnect.daemon import service
from sageconnect.daemon.lock import AdvisoryLocks, FileLock
from sageconnect.store.engine import open_store
from support import fec_lines, write_config

LINES = [
    "VE|Ventes|1|20260105|41100000|Clients|C1|Client 1|FA1|20260105|Facture FA1|100,00|0,00|||20260105||",
    "VE|Ventes|1|20260105|70600000|Prestations|||FA1|20260105|Facture FA1|0,00|100,00|||20260105||",
]


def test_a_file_lock_is_held_once_and_says_by_whom(tmp_path: Path) -> None:
    """A second lock on the same file gets nothing until the first lets go, and
    reads who holds it (host:pid)."""
    first = FileLock(tmp_path / "store.db.lock", ["a"])
    second = FileLock(tmp_path / "store.db.lock", ["a"])
    assert first.acquire() == ["a"]
    assert second.acquire() == []
    assert second.owner().endswith(f":{os.getpid()}")
    first.release()
    assert second.acquire() == ["a"]
    second.release()


@pytest.mark.postgres
def test_advisory_locks_share_companies_between_daemons(pg_url: str) -> None:
    """Daemon 1 holds acme; daemon 2 (acme, beta) gets beta only, and acme once
    daemon 1 is gone; a store in another schema is not blocked."""
    one, two = open_store(pg_url), open_store(pg_url)
    try:
        first = AdvisoryLocks(one, ["acme"])
        second = AdvisoryLocks(two, ["acme", "beta"])
        assert first.acquire() == ["acme"]
        assert second.acquire() == ["beta"]
        assert not second.holds("acme")
        assert second.alive()
        first.release()
        assert second.acquire() == ["acme", "beta"]
        second.release()
    finally:
        one.dispose()
        two.dispose()


@pytest.mark.postgres
def test_run_once_refuses_while_a_daemon_holds_every_company(
    pg_url: str, tmp_path: Path
) -> None:
    """On a shared PostgreSQL store, run --once while another process holds the
    company exits 75 with daemon_already_running, and syncs nothing."""
    (tmp_path / "fec").mkdir()
    (tmp_path / "fec" / "1FEC20261231.txt").write_text(
        fec_lines(*LINES), encoding="utf-8"
    )
    config = load(write_config(tmp_path, pg_url, "fec"))
    clock = FixedClock(dt.datetime(2026, 11, 24, 8, 0, tzinfo=dt.UTC))
    holder_engine, engine = open_store(pg_url), open_store(pg_url)
    holder = AdvisoryLocks(holder_engine, ["acme"])
    try:
        assert holder.acquire() == ["acme"]
        with capture_logs() as logged:
            assert service.once(config, clock, engine) == 75
        assert [e["event"] for e in logged] == ["daemon_already_running"]
        holder.release()
        with capture_logs() as logged:
            assert service.once(config, clock, engine) == 0
        assert "sync_finished" in [e["event"] for e in logged]
    finally:
        holder.release()
        holder_engine.dispose()
        engine.dispose()
