"""A new store's first sync builds its tables' indexes once the rows are in.

Filling an empty table row by row into an index kept in another order (the
customer index, filled in ledger order) costs more than sorting once; the
first sync drops such indexes of a table with no row and creates them again
after (``store.bulk.filling``). What an operator checks: the store keeps every
index the migrations made, defined as they made it, and holds the same data as
a store whose indexes stayed in place; a store that already holds rows (a
second company) is never touched that way (on PostgreSQL the drop would lock
its readers out until the commit).
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event

from sageconnect.clock import FixedClock
from sageconnect.config import load
from sageconnect.jobs import sync_company
from sageconnect.store import bulk
from sageconnect.store.engine import open_store

ROOT = Path(__file__).resolve().parents[2]
TABLES = ("customers", "invoices", "payments", "allocations", "source_entries")
CLOCK = FixedClock(dt.datetime(2026, 11, 24, 6, tzinfo=dt.UTC))


def _fec(folder: Path, seed: int) -> Path:
    path = folder / f"900000000FEC{seed}.txt"
    subprocess.run(
        [sys.executable, str(ROOT / "fixtures/fec/generate.py"), "--lines", "3000",
         "--customers", "60", "--seed", str(seed), "--out", str(path)],
        check=True,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return path


def _config(folder: Path, url: str, fecs: dict[str, Path]) -> Path:
    text = f'[store]\nurl = "{url}"\n'
    for code, path in fecs.items():
        text += (
            f'[companies.{code}]\nname = "{code}"\n'
            f'[companies.{code}.source]\nmapping = "fec"\npath = "{path}"\n'
        )
    path = folder / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _indexes(engine: Engine) -> dict[str, list[tuple[str, str]]]:
    with engine.connect() as conn:
        return {t: bulk._secondary_indexes(conn, t) for t in TABLES}


def _dropped(engine: Engine) -> list[str]:
    """The DROP INDEX statements run from now on, listed as they run."""
    seen: list[str] = []

    def capture(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("DROP INDEX"):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", capture)
    return seen


def _content(engine: Engine) -> list[list[tuple[Any, ...]]]:
    queries = [
        "SELECT code, name, account FROM customers ORDER BY code",
        "SELECT key, customer_id, amount, due, lettering FROM invoices ORDER BY key",
        "SELECT key, customer_id, amount, received, lettering FROM payments ORDER BY 1",
        (
            "SELECT invoice_id, payment_id, credit_note_id, amount, allocated_on,"
            " origin FROM allocations ORDER BY 1, 2, 3, 4"
        ),
        "SELECT digest, key FROM source_entries ORDER BY 1, 2",
    ]
    with engine.connect() as conn:
        return [[tuple(r) for r in conn.exec_driver_sql(q)] for q in queries]


def test_a_first_sync_keeps_every_index_and_the_same_rows(
    tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fecs = {"acme": _fec(tmp_path, 11), "beta": _fec(tmp_path, 12)}
    config = load(_config(tmp_path, store_url, fecs))
    engine = open_store(store_url)
    try:
        made = _indexes(engine)
        assert made["invoices"]  # something to rebuild
        assert made["allocations"]
        dropped = _dropped(engine)
        report = sync_company(config, "acme", engine, CLOCK)
        assert report.allocations > 0
        assert report.inserted > 1000
        assert dropped, "the empty tables' indexes were built after their rows"
        assert _indexes(engine) == made
        dropped.clear()
        sync_company(config, "beta", engine, CLOCK)  # tables that hold rows
        assert dropped == []
        assert _indexes(engine) == made
        first = _content(engine)
    finally:
        engine.dispose()

    # The same syncs with every index kept in place give the same rows.
    monkeypatch.setattr(bulk, "_has_rows", lambda *_: True)
    other = open_store(_fresh(store_url, tmp_path))
    try:
        dropped = _dropped(other)
        sync_company(config, "acme", other, CLOCK)
        sync_company(config, "beta", other, CLOCK)
        assert dropped == []
        assert _content(other) == first
    finally:
        other.dispose()


def _fresh(store_url: str, tmp_path: Path) -> str:
    """A second, empty store beside the first (a schema's URL is reused on
    PostgreSQL: its tables are emptied)."""
    if store_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'kept.db'}"
    engine = open_store(store_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "TRUNCATE customers, invoices, payments, allocations, source_entries,"
            " sync_runs, checkpoints, companies RESTART IDENTITY CASCADE"
        )
    engine.dispose()
    return store_url
