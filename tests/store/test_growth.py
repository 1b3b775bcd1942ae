"""Statistics of a table filled chunk by chunk in one transaction (PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

from sageconnect.store.bulk import Growth, insert_rows
from sageconnect.store.engine import open_store


def test_growth_analyses_a_few_times_as_the_table_fills(pg_url: str) -> None:
    engine = open_store(pg_url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TEMPORARY TABLE grown (n INTEGER)")
            growth = Growth(conn, "grown")
            analysed = []
            for chunk in range(20):
                rows = [(chunk * 700 + i,) for i in range(700)]
                insert_rows(conn, "grown", ("n",), rows)
                before = growth.seen
                growth.wrote(len(rows))
                if growth.seen != before:
                    analysed.append(chunk)
            seen = conn.exec_driver_sql(
                "SELECT reltuples FROM pg_class WHERE relname = 'grown'"
            ).scalar()
            # past 1,000 rows, then each time the rows written pass those seen:
            # 1,400 (chunk 1), 3,500 (chunk 4), 7,700 (chunk 10)
            assert analysed == [1, 4, 10]
            assert seen == growth.seen == 11 * 700
    finally:
        engine.dispose()


def test_growth_does_nothing_on_sqlite(tmp_path: Path) -> None:
    engine = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        with engine.begin() as conn:
            growth = Growth(conn, "allocations")
            growth.wrote(10_000)
            assert (growth.active, growth.seen, growth.pending) == (False, 0.0, 0)
    finally:
        engine.dispose()
