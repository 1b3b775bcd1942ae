"""Benchmark: sync of a FEC into SQLite (and PostgreSQL), against a floor, same run.

    .venv/bin/python bench/sync.py [--lines 100000] [--pg postgresql://...]

For each size it generates a seeded FEC (fixtures/fec/generate.py), then measures,
each in a fresh subprocess so peak memory is the process's own:

- floor: Python csv + Decimal + dates over the same file (reading only);
- full sync into an empty SQLite store, then a re-sync of the unchanged file,
  then a forced re-read (--full: every row hashed and compared);
- the same into PostgreSQL when --pg is given.

Wall time, rows per second and peak RSS go to bench/results/sync.md and stdout.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import Result, child, fec_file, write_results

FLOOR = """
import csv, sys, datetime as dt
from decimal import Decimal
n = 0
with open(sys.argv[1], encoding="utf-8-sig", newline="") as f:
    rows = csv.reader(f, delimiter="\\t")
    next(rows)
    for r in rows:
        d = dt.date(int(r[3][:4]), int(r[3][4:6]), int(r[3][6:]))
        a = Decimal(r[11].replace(",", ".")) - Decimal(r[12].replace(",", "."))
        n += 1
print(n)
"""


def config(folder: Path, fec: Path, url: str) -> Path:
    path = folder / "bench.toml"
    path.write_text(
        f'[store]\nurl = "{url}"\n[logging]\nlevel = "warning"\n'
        f'[companies.bench]\nname = "Bench"\n[companies.bench.source]\n'
        f'mapping = "fec"\npath = "{fec}"\n',
        encoding="utf-8",
    )
    return path


def scratch_schema(pg: str, name: str, *, drop: bool = False) -> str:
    """Create (or drop) a schema for one measurement; return a URL that uses it."""
    sql = f"DROP SCHEMA IF EXISTS {name} CASCADE"
    if not drop:
        sql += f"; CREATE SCHEMA {name}"
    sql = "SET client_min_messages = warning; " + sql
    subprocess.run(["psql", pg, "-q", "-c", sql], check=True)
    sep = "&" if "?" in pg else "?"
    return f"{pg}{sep}options=-csearch_path%3D{name}"


def run_size(lines: int, pg: str | None, work: Path) -> list[Result]:
    fec = fec_file(lines, work)
    exe = str(Path(sys.executable).parent / "sageconnect")
    results = [
        (
            "floor: csv + Decimal + dates",
            lines,
            *child([sys.executable, "-c", FLOOR, str(fec)])[:2],
        )
    ]
    stores = [("sqlite", f"sqlite:///{work / f'bench{lines}.db'}")]
    if pg:
        stores.append(("postgresql", scratch_schema(pg, f"bench_{lines}")))
    for name, url in stores:
        cfg = str(config(work, fec, url))
        for label, extra in [
            ("full sync", []),
            ("re-sync unchanged", []),
            ("re-sync forced (--full)", ["--full"]),
        ]:
            wall, rss, _ = child([exe, "sync", "-c", cfg, *extra])
            results.append((f"{name}: {label}", lines, wall, rss))
    if pg:
        scratch_schema(pg, f"bench_{lines}", drop=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, nargs="+", default=[100_000])
    parser.add_argument("--pg", help="PostgreSQL URL for an empty scratch database")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for lines in args.lines:
            rows += run_size(lines, args.pg, Path(tmp))
    print(write_results("sync", rows, unit="lines"))


if __name__ == "__main__":
    main()
