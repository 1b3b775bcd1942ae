"""On every fixture ledger, the aged balance adds up to the receivable balance."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine

from sageconnect.clock import FixedClock
from sageconnect.config import Config, load
from sageconnect.jobs import sync_company
from sageconnect.kpi.refresh import board_for
from sageconnect.store.engine import open_store
from sageconnect.store.queries import balances, company_ids
from support import ROOT, build_sage, drop_sage, write_config

ZERO = Decimal("0.00")
SOURCES = {
    "fec": ("fec", ROOT / "fixtures" / "fec"),
    "fec-malformed": ("fec", ROOT / "fixtures" / "fec-malformed"),
    "csv": ("csv", ROOT / "fixtures" / "csv"),
    "ebp": ("ebp", ROOT / "fixtures" / "ebp"),
}


def check_aged_equals_ledger(config: Config, engine: Engine, as_of: dt.date) -> None:
    with engine.connect() as conn:
        company = company_ids(conn)["acme"]
        board = board_for(conn, config, "acme", company, as_of)
        ledger = {b.code: b.ledger_balance for b in balances(conn, company, as_of)}
    aged = {r.customer: r.total for r in board.aged}
    assert set(aged) <= set(ledger)
    assert {code: aged.get(code, ZERO) for code in ledger} == ledger
    assert board.aged_total.total == sum(ledger.values(), ZERO)
    t = board.aged_total
    assert t.not_due + sum(t.buckets, ZERO) + t.unapplied == t.total


@pytest.mark.parametrize(
    "case", [(f, d) for f in sorted(SOURCES) for d in ("2026-11-24", "2026-09-30")]
)
def test_aged_balance_total_is_the_ledger_balance_on_file_fixtures(
    case: tuple[str, str],
    tmp_path: Path,
    store_url: str,
    engine: Engine,
    clock: FixedClock,
) -> None:
    """Each customer's aged row and the total equal the ledger balance, to the cent."""
    fixture, as_of = case
    mapping, folder = SOURCES[fixture]
    path = write_config(tmp_path, store_url, str(folder))
    text = path.read_text(encoding="utf-8").replace('"fec"', f'"{mapping}"')
    path.write_text(text, encoding="utf-8")
    config = load(path)
    sync_company(config, "acme", engine, clock)
    day = dt.date.fromisoformat(as_of)
    check_aged_equals_ledger(config, engine, day)
    if day == clock.now().date():  # every fixture owes something on the clock's day
        with engine.connect() as conn:
            board = board_for(conn, config, "acme", company_ids(conn)["acme"], day)
        assert board.aged_total.total != ZERO


def test_aged_balance_total_is_the_ledger_balance_on_sage100_over_odbc(
    tmp_path: Path, clock: FixedClock
) -> None:
    """The Sage 100 fixture read through the SQLite ODBC driver adds up the same way."""
    db = build_sage("sqlite", tmp_path)
    try:
        path = tmp_path / "config.toml"
        path.write_text(
            f'[store]\nurl = "sqlite:///{tmp_path / "store.db"}"\n'
            '[companies.acme]\nname = "ACME"\n'
            f'[companies.acme.source]\nmapping = "sage100"\n{db.source_settings}',
            encoding="utf-8",
        )
        config = load(path)
        engine = open_store(config.store_url())
        try:
            sync_company(config, "acme", engine, clock)
            check_aged_equals_ledger(config, engine, clock.now().date())
        finally:
            engine.dispose()
    finally:
        drop_sage(db)
