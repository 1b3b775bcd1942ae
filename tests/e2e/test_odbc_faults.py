"""ODBC under a French locale, and a source connection killed in the middle of a read."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from sageconnect.clock import FixedClock
from sageconnect.config import load
from sageconnect.errors import SourceUnavailable
from sageconnect.jobs import sync_company
from sageconnect.readers.odbc import OdbcSettings, OdbcSource
from sageconnect.store.engine import open_store
from sageconnect.store.queries import balances, company_ids
from sageconnect.store.tables import (
    checkpoints,
    customers,
    invoices,
    payments,
    sync_runs,
)
from support import SageDb, build_sage, drop_sage, load_sage_builder


def write_config(tmp_path: Path, db: SageDb, extra: str = "") -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[store]\nurl = "sqlite:///{tmp_path / "store.db"}"\n'
        f'[companies.acme]\nname = "ACME"\n[companies.acme.source]\n'
        f'mapping = "sage100"\n{db.source_settings}{extra}',
        encoding="utf-8",
    )
    return path


def test_a_french_locale_reads_amounts_and_names_exactly(
    sage: SageDb, tmp_path: Path
) -> None:
    """With fr_FR set before pyodbc loads, 3656.88, 0.01 and accented names arrive intact."""
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import locale; locale.setlocale(locale.LC_ALL, 'fr_FR.UTF-8')",
        ],
        capture_output=True,
        check=False,
    )
    if probe.returncode:
        pytest.skip("no fr_FR.UTF-8 locale: .ci/run generates it (locale-gen)")
    config = write_config(tmp_path, sage)
    script = (
        "import locale, sys\n"
        "locale.setlocale(locale.LC_ALL, '')\n"
        "import pyodbc  # a careless plug-in imports pyodbc under the French locale\n"
        "from sageconnect.cli import main\n"
        f"sys.exit(main(['sync', '-c', {str(config)!r}]))\n"
    )
    env = {**os.environ, "LC_ALL": "fr_FR.UTF-8", "LANG": "fr_FR.UTF-8"}
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    engine = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    with engine.connect() as conn:
        amounts = set(conn.execute(select(invoices.c.amount)).scalars())
        paid = set(conn.execute(select(payments.c.amount)).scalars())
        names = set(conn.execute(select(customers.c.name)).scalars())
    engine.dispose()
    assert Decimal("3656.88") in amounts
    assert Decimal("0.01") in paid | {-a for a in amounts}
    rows, _ = load_sage_builder().generate(120, 1500, 100)
    expected = {r["CT_Intitule"] for r in rows["F_COMPTET"] if r["CT_Type"] == 0}
    assert names == expected
    assert any(ch in "".join(names) for ch in "œŒ’")


def killing_rows(admin: Any, after: int) -> Any:
    """OdbcSource.batches, but the server kills our session once ``after`` rows are read."""
    original = OdbcSource.batches

    def batches(
        self: OdbcSource, sql: str, params: Sequence[Any] = ()
    ) -> Iterator[tuple[list[str], list[Any]]]:
        pid = self._conn.execute("SELECT pg_backend_pid()").fetchval()
        read = 0
        for names, batch in original(self, sql, params):
            if read <= after < read + len(batch):
                with admin() as conn:
                    conn.execute("SELECT pg_terminate_backend(?)", pid)
            read += len(batch)
            yield names, batch

    return batches


def test_a_connection_killed_mid_read_fails_cleanly_then_recovers(
    tmp_path: Path,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """pg_terminate_backend mid-read: a transient sync_failed, nothing stored, then the same final state."""
    db = build_sage("postgresql", tmp_path, customers=200, entries=6000)
    try:
        config = load(write_config(tmp_path, db, "fetch_size = 100\n"))
        engine = open_store(f"sqlite:///{tmp_path / 'store.db'}")
        monkeypatch.setattr(OdbcSource, "batches", killing_rows(db.admin, after=500))
        from sageconnect import logs  # noqa: PLC0415

        logs.configure("info", "json")
        with pytest.raises(SourceUnavailable) as caught:
            sync_company(config, "acme", engine, clock)
        assert caught.value.transient
        failed = [
            json.loads(line)
            for line in capsys.readouterr().err.splitlines()
            if '"sync_failed"' in line
        ]
        assert failed[0]["transient"] is True
        assert failed[0]["sqlstate"].startswith(("08", "57P"))
        with engine.connect() as conn:
            assert (
                conn.execute(select(func.count()).select_from(invoices)).scalar_one()
                == 0
            )
            assert conn.execute(select(sync_runs.c.status)).scalar_one() == "failed"
        monkeypatch.undo()
        report = sync_company(config, "acme", engine, clock)
        assert report.status == "completed"
        with engine.connect() as conn:
            after_retry = {
                b.code: b.ledger_balance
                for b in balances(conn, company_ids(conn)["acme"], clock.now().date())
            }
        fresh = open_store(f"sqlite:///{tmp_path / 'fresh.db'}")
        sync_company(config, "acme", fresh, clock)
        with fresh.connect() as conn:
            clean = {
                b.code: b.ledger_balance
                for b in balances(conn, company_ids(conn)["acme"], clock.now().date())
            }
        assert after_retry == clean
        engine.dispose()
        fresh.dispose()
    finally:
        drop_sage(db)


def test_a_source_that_hangs_is_cancelled_in_time(tmp_path: Path) -> None:
    """psqlODBC ignores query timeouts: the watchdog cancels a stalled read, and the process lives on."""
    db = build_sage("postgresql", tmp_path, customers=10, entries=50)
    try:
        settings = OdbcSettings(db.connection_string, query_timeout=1)
        started = time.perf_counter()
        with (
            pytest.raises(SourceUnavailable, match="no answer for 1 s") as caught,
            OdbcSource(settings) as source,
        ):
            list(source.rows("SELECT pg_sleep(10)"))
        assert caught.value.transient
        assert time.perf_counter() - started < 5
        with OdbcSource(settings) as source:  # a new connection right after works
            assert next(row for _, row in source.rows("SELECT 1"))[0] == 1
    finally:
        drop_sage(db)


def store_state(engine: Engine, clock: FixedClock) -> tuple[object, ...]:
    """Everything a kill must not change: rows, balances and the checkpoint."""
    with engine.connect() as conn:
        return (
            conn.execute(select(func.count()).select_from(invoices)).scalar_one(),
            conn.execute(select(func.count()).select_from(payments)).scalar_one(),
            conn.execute(select(checkpoints.c.value)).scalar_one(),
            tuple(balances(conn, company_ids(conn)["acme"], clock.now().date())),
        )


def test_a_kill_during_a_later_sync_leaves_the_store_as_it_was(
    tmp_path: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With data already stored, a read killed midway changes no row, balance or checkpoint."""
    db = build_sage("postgresql", tmp_path, customers=200, entries=6000)
    try:
        config = load(write_config(tmp_path, db, "fetch_size = 100\n"))
        engine = open_store(f"sqlite:///{tmp_path / 'store.db'}")
        sync_company(config, "acme", engine, clock)
        with db.admin() as conn:
            conn.execute(
                "UPDATE F_ECRITUREC SET EC_Lettre = 0, EC_Lettrage = '' WHERE EC_Lettre = 1"
            )
            last = conn.execute(
                "SELECT MAX(e.EC_No) FROM F_ECRITUREC e"
                " JOIN F_COMPTET t ON t.CT_Num = e.CT_Num"
                " WHERE t.CT_Type = 0 AND e.EC_ANType = 0"
            ).fetchval()
            deleted = conn.execute("DELETE FROM F_ECRITUREC WHERE EC_No = ?", last)
            assert deleted.rowcount == 1
        before = store_state(engine, clock)
        monkeypatch.setattr(OdbcSource, "batches", killing_rows(db.admin, after=500))
        with pytest.raises(SourceUnavailable):
            sync_company(config, "acme", engine, clock, full=True)
        assert store_state(engine, clock) == before
        monkeypatch.undo()
        report = sync_company(config, "acme", engine, clock, full=True)
        assert (report.status, report.closed) == ("completed", 1)
        assert report.updated > 100
        engine.dispose()
    finally:
        drop_sage(db)
