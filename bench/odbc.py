"""Benchmark: reading Sage 100 entries through ODBC, against a bare pyodbc loop.

    .venv/bin/python bench/odbc.py [--rows 1000000] [--pg postgresql://postgres@127.0.0.1:5432/test]
        [--schema bench_odbc]

Builds the seeded Sage 100 fixture (fixtures/sage100/build.py, 100 000 entries),
copies its F_ECRITUREC lines with shifted EC_No until the table holds --rows,
then measures, each in a fresh process (peak RSS is the process's own):

- floor: a bare pyodbc fetchmany(5000) loop over the sage100 mapping's entries query;
- read: sageconnect's mapper turning those rows into records (no store);
- sync: ``sageconnect sync --full`` into an empty SQLite store.

Drivers: SQLite ODBC (always) and psqlODBC (with --pg). Results go to
bench/results/odbc.md and stdout.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyodbc
from _common import ROOT, Result, child, write_results

BASE_ENTRIES = 100_000
FLOOR = """
import datetime as dt, sys, pyodbc, tomllib
pyodbc.pooling = False
query = tomllib.load(open(sys.argv[2], "rb"))["entries"]["query"]
conn = pyodbc.connect(sys.argv[1], autocommit=True)
cursor = conn.execute(query, dt.datetime(1900, 1, 1))
n = 0
while batch := cursor.fetchmany(5000):
    n += len(batch)
print(n)
"""
READ = """
import sys
from pathlib import Path
from sageconnect.clock import SystemClock
from sageconnect.config import load
from sageconnect.jobs import build_mapper
mapper = build_mapper(load(Path(sys.argv[1])), "bench", SystemClock())
reading = mapper.read(None, full=True)
print(sum(1 for r in reading.records() if type(r).__name__ in ("Invoice", "Payment")))
"""


def builder() -> Any:
    spec = importlib.util.spec_from_file_location(
        "sage_build", ROOT / "fixtures/sage100/build.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["sage_build"] = module
    spec.loader.exec_module(module)
    return module


SOURCE_TABLES = ("F_ECRITUREC", "F_COMPTET", "F_JOURNAUX", "F_CONTACTT")
CUSTOMER_LINES = "SELECT COUNT(*) FROM F_ECRITUREC e JOIN F_COMPTET t ON t.CT_Num = e.CT_Num WHERE t.CT_Type = 0"


def grow(conn: pyodbc.Connection, rows: int, *, server: bool = False) -> int:
    """Copy customer lines with shifted EC_No until the entries query returns
    ``rows``; on a ``server`` (PostgreSQL, standing for SQL Server), analyse them."""
    cursor = conn.execute("SELECT * FROM F_ECRITUREC WHERE 1 = 0")
    names = [d[0] for d in cursor.description if d[0].lower() != "cbmarq"]
    top = int(conn.execute("SELECT MAX(EC_No) FROM F_ECRITUREC").fetchval())
    count = int(conn.execute(CUSTOMER_LINES).fetchval())
    cols = ", ".join(names)
    copy = 1
    while count < rows:
        shift = copy * top
        select = ", ".join(
            f"EC_No + {shift}" if n.lower() == "ec_no" else n for n in names
        )
        conn.execute(
            f"INSERT INTO F_ECRITUREC ({cols}) SELECT {select} FROM F_ECRITUREC"
            f" WHERE EC_No <= {top} AND CT_Num IN"
            " (SELECT CT_Num FROM F_COMPTET WHERE CT_Type = 0)"
        )
        conn.commit()
        count = int(conn.execute(CUSTOMER_LINES).fetchval())
        copy += 1
    # A Sage database on SQL Server has the statistics the server keeps (it
    # creates and refreshes them by itself); this machine's autovacuum may be
    # off. Without them PostgreSQL looked up the day's changes customer by
    # customer: 10.3 s for the 3 768 lines of an incremental read of 1M, 0.49 s
    # with them. (SQLite, standing for the Sage file driver, keeps none.)
    if server:
        for table in SOURCE_TABLES:
            conn.execute(f"ANALYZE {table}")
        conn.commit()
    return count


def measure(label: str, source: str, encoding: str, work: Path) -> list[Result]:
    config = work / f"{label}.toml"
    config.write_text(
        f'[store]\nurl = "sqlite:///{work / (label + "-store.db")}"\n[logging]\nlevel = "warning"\n'
        f'[companies.bench]\nname = "Bench"\n[companies.bench.source]\nmapping = "sage100"\n'
        f'connection_string = "{source}"\nencoding = "{encoding}"\n',
        encoding="utf-8",
    )
    mapping = str(ROOT / "mappings" / "sage100.toml")
    exe = str(Path(sys.executable).parent / "sageconnect")
    wall, rss, rows = child([sys.executable, "-c", FLOOR, source, mapping])
    results = [(f"{label}: floor, bare pyodbc fetchmany", int(rows), wall, rss)]
    wall, rss, records = child([sys.executable, "-c", READ, str(config)])
    results.append(
        (f"{label}: sageconnect read (records, no store)", int(records), wall, rss)
    )
    wall, rss, _ = child([exe, "sync", "-c", str(config), "--full"])
    results.append((f"{label}: sageconnect sync into SQLite", int(records), wall, rss))
    return results


def floor_and_sync(
    label: str, source: str, work: Path, size: str
) -> list[tuple[str, int, float, int, str]]:
    """The bare pyodbc loop, a full sync into SQLite, then the next (incremental)
    sync of the unchanged source, each in its own process."""
    config = work / f"{label}-{size}.toml"
    store = work / f"{label}-{size}-store.db"
    store.unlink(missing_ok=True)
    config.write_text(
        f'[store]\nurl = "sqlite:///{store}"\n[logging]\nlevel = "warning"\n'
        f'[companies.bench]\nname = "Bench"\n[companies.bench.source]\nmapping = "sage100"\n'
        f'connection_string = "{source}"\nencoding = "utf-8"\n',
        encoding="utf-8",
    )
    mapping = str(ROOT / "mappings" / "sage100.toml")
    exe = str(Path(sys.executable).parent / "sageconnect")
    floor = f"{label}: floor, bare pyodbc fetchmany"
    wall, rss, rows = child([sys.executable, "-c", FLOOR, source, mapping])
    print(f"  {floor}: {wall:.2f} s, {rss} MiB", flush=True)
    found = [(floor, int(rows), wall, rss, "")]
    wall, rss, _ = child([exe, "sync", "-c", str(config), "--full"])
    print(f"  {label}: full sync into SQLite: {wall:.2f} s, {rss} MiB", flush=True)
    full = f"{label}: full sync into SQLite"
    found.append((full, int(rows), wall, rss, floor))
    # the next scheduled sync: incremental, it reads the lookback window only
    wall, rss, _ = child([exe, "sync", "-c", str(config)])
    print(f"  {label}: re-sync unchanged: {wall:.2f} s, {rss} MiB", flush=True)
    found.append((f"{label}: re-sync unchanged", int(rows), wall, rss, full))
    store.unlink(missing_ok=True)
    return found


def pg_source(pg: str, schema: str = "bench_odbc") -> tuple[str, str]:
    """psqlODBC connection strings: the admin one, and the source's (cursor fetch)."""
    url = urlsplit(pg)
    base = (
        f"Driver={{PostgreSQL Unicode}};Servername={url.hostname};Port={url.port or 5432};"
        f"Database={url.path.lstrip('/')};Username={url.username or 'postgres'}"
    )
    source = (
        f"{base};UseDeclareFetch=1;Fetch=5000;ConnSettings=SET search_path TO {schema}"
    )
    return base, source


def drop_schema(base: str, schema: str = "bench_odbc") -> None:
    with pyodbc.connect(base, autocommit=True) as admin:
        admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--pg", help="PostgreSQL URL, e.g. postgresql://postgres@127.0.0.1:5432/test"
    )
    parser.add_argument(
        "--schema", default="bench_odbc", help="scratch PostgreSQL schema (dropped)"
    )
    args = parser.parse_args()
    build = builder()
    rows: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        conn = build.connect("sqlite", path=work / "sage.db")  # type: ignore[attr-defined]
        build.build(conn, "sqlite", customers=2000, entries=BASE_ENTRIES, seed=7)  # type: ignore[attr-defined]
        grow(conn, args.rows)
        conn.close()
        rows += measure(
            "SQLite ODBC",
            f"Driver={{SQLite3}};Database={work / 'sage.db'}",
            "utf-8",
            work,
        )
        if args.pg:
            base, source = pg_source(args.pg, args.schema)
            conn = build.connect("postgresql", dsn_string=base, schema=args.schema)  # type: ignore[attr-defined]
            build.build(
                conn, "postgresql", customers=2000, entries=BASE_ENTRIES, seed=7
            )  # type: ignore[attr-defined]
            grow(conn, args.rows, server=True)
            conn.close()
            try:
                rows += measure("psqlODBC", source, "utf-8", work)
            finally:
                drop_schema(base, args.schema)
    print(write_results("odbc", rows))


if __name__ == "__main__":
    main()
