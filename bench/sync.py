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
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
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


WRAPPER = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
wall = time.perf_counter() - start
print(json.dumps([wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss]))
"""


def child(cmd: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (MiB) of cmd, run under its own wrapper process."""
    wrapper = [sys.executable, "-c", WRAPPER, *cmd]
    out = subprocess.run(wrapper, check=True, capture_output=True, text=True).stdout
    wall, rss_kib = json.loads(out)
    return float(wall), int(rss_kib) // 1024


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
    subprocess.run(["psql", pg, "-q", "-c", sql], check=True)
    sep = "&" if "?" in pg else "?"
    return f"{pg}{sep}options=-csearch_path%3D{name}"


def run_size(
    lines: int, pg: str | None, work: Path
) -> list[tuple[str, int, float, int]]:
    fec = work / f"900000000FEC{lines}.txt"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "fixtures/fec/generate.py"),
            "--lines",
            str(lines),
            "--customers",
            str(max(50, lines // 50)),
            "--seed",
            "7",
            "--out",
            str(fec),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    exe = str(Path(sys.executable).parent / "sageconnect")
    results = [
        (
            "floor: csv + Decimal + dates",
            lines,
            *child([sys.executable, "-c", FLOOR, str(fec)]),
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
            wall, rss = child([exe, "sync", "-c", cfg, *extra])
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
    table = [
        "| measure | lines | wall s | lines/s | peak RSS MiB |",
        "|---|---:|---:|---:|---:|",
    ]
    table += [f"| {m} | {n} | {w:.2f} | {n / w:,.0f} | {r} |" for m, n, w, r in rows]
    text = "\n".join(table) + "\n"
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "sync.md").write_text(
        f"Command: {' '.join(sys.argv)}\nMachine: {os.cpu_count()} cores\n\n{text}",
        encoding="utf-8",
    )
    print(text)


if __name__ == "__main__":
    main()
