"""Benchmark: writing reminder notes back into Sage 100 through ODBC.

    .venv/bin/python bench/writeback.py [--notes 5000] [--history 100000] \
        [--pg postgresql://postgres@127.0.0.1:5432/test]

Builds the seeded Sage 100 fixture (400 customers), fills F_COMPTETMEDIA with
--history older notes (what years of write-back leave there), puts --notes sent
reminders in an SQLite store, then measures ``sageconnect writeback`` in a fresh
process: each note is claimed, looked for by its marker (read before write),
inserted and recorded. A second run (nothing to write) is measured too.
Drivers: SQLite ODBC (always) and psqlODBC (with --pg). Results go to
bench/results/writeback.md and stdout.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

import pyodbc
from _common import Result, child, write_results
from odbc import builder, pg_source
from sqlalchemy import insert, select

from sageconnect.store.engine import open_store
from sageconnect.store.tables import companies, customers, reminders

NOW = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)


def history(conn: pyodbc.Connection, codes: list[str], rows: int) -> None:
    """``rows`` old notes spread over the customers, each with its own marker."""
    sql = "INSERT INTO F_COMPTETMEDIA (CT_Num, ME_Commentaire) VALUES (?, ?)"
    batch = [
        (codes[n % len(codes)], f"(sc:old{n:07d}) 01/01/2025 relance 1 e-mail envoyée")
        for n in range(rows)
    ]
    for start in range(0, rows, 5000):
        conn.cursor().executemany(sql, batch[start : start + 5000])
    conn.commit()


def store(path: Path, codes: list[str], notes: int) -> None:
    """An SQLite store with ``notes`` reminders sent (fabricated: a bench only)."""
    engine = open_store(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(
            insert(companies).values(code="bench", name="Bench", currency="EUR")
        )
        company = conn.execute(select(companies.c.id)).scalar_one()
        conn.execute(
            insert(customers),
            [
                {
                    "company_id": company, "code": code, "name": code,
                    "account": "411", "language": "fr", "dunning_excluded": False,
                    "first_run_id": 0, "changed_run_id": 0,
                }
                for code in codes
            ],
        )  # fmt: skip
        ids = list(
            conn.execute(select(customers.c.id).order_by(customers.c.id)).scalars()
        )
        body = json.dumps(
            {"total_claimed": "1234.56", "total_interest": "12.30",
             "total_indemnity": "40.00", "lines": [{"number": "FA2600001"}]}
        )  # fmt: skip
        conn.execute(
            insert(reminders),
            [
                {
                    "key": hashlib.sha256(str(n).encode()).hexdigest()[:32], "company_id": company,
                    "customer_id": ids[n % len(ids)], "scenario": "standard",
                    "step": "first_reminder", "channel": "email",
                    "planned_on": NOW.date(), "state": "sent",
                    "total": Decimal("1234.56"),
                    "payload": body, "payload_hash": "x", "attempts": 1,
                    "finished_at": NOW,
                }
                for n in range(1, notes + 1)
            ],
        )  # fmt: skip
        assert conn.execute(select(reminders.c.id).limit(1)).first()
    engine.dispose()


def measure(
    label: str, source: str, work: Path, codes: list[str], notes: int
) -> list[Result]:
    config = work / f"{label}.toml"
    store(work / f"{label}.db", codes, notes)
    config.write_text(
        f'[store]\nurl = "sqlite:///{work / (label + ".db")}"\n[logging]\nlevel = "warning"\n'
        f'[companies.bench]\nname = "Bench"\n[companies.bench.source]\nmapping = "sage100"\n'
        f'connection_string = "{source}"\nencoding = "utf-8"\n'
        f'[companies.bench.writeback]\nwriter = "odbc"\n',
        encoding="utf-8",
    )
    exe = str(Path(sys.executable).parent / "sageconnect")
    wall, rss, _ = child([exe, "writeback", "-c", str(config)])
    results = [(f"{label}: writeback (find + insert + record)", notes, wall, rss)]
    wall, rss, _ = child([exe, "writeback", "-c", str(config)])
    results.append((f"{label}: writeback again (nothing due)", notes, wall, rss))
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--notes", type=int, default=5000)
    parser.add_argument("--history", type=int, default=100_000)
    parser.add_argument("--pg", help="PostgreSQL URL for psqlODBC")
    args = parser.parse_args()
    build = builder()
    rows: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        conn = build.connect("sqlite", path=work / "sage.db")
        build.build(conn, "sqlite", customers=400, entries=6000, seed=7)
        codes = [
            str(c)
            for (c,) in conn.execute("SELECT CT_Num FROM F_COMPTET WHERE CT_Type = 0")
        ]
        history(conn, codes, args.history)
        conn.close()
        source = f"Driver={{SQLite3}};Database={work / 'sage.db'}"
        rows += measure("SQLite ODBC", source, work, codes, args.notes)
        if args.pg:
            base, _ = pg_source(args.pg)
            conn = build.connect("postgresql", dsn_string=base, schema="bench_notes")
            build.build(conn, "postgresql", customers=400, entries=6000, seed=7)
            history(conn, codes, args.history)
            conn.close()
            source = f"{base};ConnSettings=SET search_path TO bench_notes"
            try:
                rows += measure("psqlODBC", source, work, codes, args.notes)
            finally:
                with pyodbc.connect(base, autocommit=True) as admin:
                    admin.execute("DROP SCHEMA IF EXISTS bench_notes CASCADE")
    print(write_results("writeback", rows, unit="notes"))


if __name__ == "__main__":
    main()
