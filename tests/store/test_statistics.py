"""A PostgreSQL store whose tables hold rows but no statistics (restored with
pg_restore, moved by COPY, or filled before autovacuum came by) is analysed by
the next sync before it plans anything, once, and says so in its log."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import Engine
from structlog.testing import capture_logs

from sageconnect.clock import FixedClock
from sageconnect.config import load
from sageconnect.jobs import sync_company
from sageconnect.store.bulk import FRESH
from sageconnect.store.engine import open_store
from sageconnect.store.planner import STORE_TABLES

# the store tables a CSV source fills (source_entries: a ledger file's alone)
ITEMS_TABLES = {"allocations", "customers", "invoices", "payments"}
CLOCK = FixedClock(dt.datetime(2026, 11, 24, 6, tzinfo=dt.UTC))


def _config(tmp_path: Path, url: str, customers_count: int = 30) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    customers = [
        "code;name;email;phone;siren;language;credit_limit;insured_limit;no_dunning"
    ]
    entries = ["id;customer;type;number;date;due;label;amount;match"]
    for n in range(1, customers_count + 1):
        code = f"C{n:04d}"
        customers.append(f"{code};Client {n};;;;fr;;;0")
        entries += [
            f"I{n};{code};invoice;F{n};01/10/2026;31/10/2026;Facture;120,00;L1",
            f"J{n};{code};invoice;G{n};02/10/2026;01/11/2026;Facture;80,00;",
            f"P{n};{code};payment;V{n};15/10/2026;;Virement;120,00;L1",
        ]
    (src / "customers.csv").write_text("\n".join(customers) + "\n", encoding="utf-8")
    (src / "entries.csv").write_text("\n".join(entries) + "\n", encoding="utf-8")
    path = tmp_path / "config.toml"
    path.write_text(
        f'[store]\nurl = "{url}"\n'
        '[companies.acme]\nname = "ACME"\n'
        '[companies.acme.source]\nmapping = "csv"\npath = "src"\n',
        encoding="utf-8",
    )
    return path


def _with_statistics(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT DISTINCT tablename FROM pg_stats WHERE schemaname = current_schema()"
        )
        return {str(name) for (name,) in rows} & set(STORE_TABLES)


def _analyzed_events(config: Path, engine: Engine, *, full: bool) -> list[str]:
    with capture_logs() as logged:
        report = sync_company(load(config), "acme", engine, CLOCK, full=full)
    assert report.status == "completed"
    return [e["tables"] for e in logged if e["event"] == "store_tables_analyzed"]


def _without_autovacuum(engine: Engine) -> None:
    with engine.begin() as conn:  # autovacuum must not come by during the test
        for table in STORE_TABLES:
            conn.exec_driver_sql(f"ALTER TABLE {table} SET (autovacuum_enabled = off)")


def test_a_store_without_statistics_is_analysed_once(
    tmp_path: Path, pg_url: str
) -> None:
    engine = open_store(pg_url)
    try:
        _without_autovacuum(engine)
        config = _config(tmp_path, pg_url)

        # a new store: empty tables have nothing to tell
        assert _analyzed_events(config, engine, full=False) == []
        # a few dozen rows each, fewer than a sync analyses after writing them:
        # rows and no statistics, as a restored store has them
        assert _with_statistics(engine) == set()

        events = _analyzed_events(config, engine, full=True)
        assert events == [",".join(sorted(ITEMS_TABLES))]
        assert _with_statistics(engine) == ITEMS_TABLES

        # statistics stay (a sync's own writes do not remove them): not again
        assert _analyzed_events(config, engine, full=True) == []
    finally:
        engine.dispose()


def test_a_first_sync_leaves_statistics_of_the_tables_it_filled(
    tmp_path: Path, pg_url: str
) -> None:
    """A first sync of more rows than the planner can go without statistics for
    (bulk.FRESH) analyses every table it filled, allocations included: the next
    sync has nothing to analyse before it plans."""
    engine = open_store(pg_url)
    try:
        _without_autovacuum(engine)
        config = _config(tmp_path, pg_url, customers_count=FRESH + 100)

        assert _analyzed_events(config, engine, full=False) == []  # a new store
        assert _with_statistics(engine) == ITEMS_TABLES
        assert _analyzed_events(config, engine, full=True) == []
    finally:
        engine.dispose()
