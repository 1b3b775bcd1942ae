"""Every measure of the performance issue, in one run, against floors of the same run.

    .venv/bin/python bench/run.py --sizes 100k,1M,5M \\
        --pg postgresql://postgres@127.0.0.1:5432/test [--odbc-sizes 1M] [--plan]

For each FEC size (seeded: fixtures/fec/generate.py, one customer per 50 lines),
each measure in a fresh process (wall seconds, rows per second, peak RSS):

- floors: Python ``csv`` + Decimal + dates (reading only); the ``sqlite3``
  command-line ``.import`` plus typing in SQL; PostgreSQL ``COPY`` plus typing
  in SQL (through psycopg; the server's memory is not the client's); and the
  least a sync written in Python does into each store (PY_FLOOR: the csv read,
  then the receivable lines written typed through executemany or COPY), which
  shows what the 2x target leaves for the rest of a sync;
- ``sageconnect sync`` into an empty SQLite store, a re-sync of the unchanged
  file, a re-sync after 1 % of the lines changed (labels, every third one
  un-lettered); the same into a scratch PostgreSQL schema with ``--pg``. Each
  re-sync runs ``--repeat`` times (3 by default: the 1 % change undone and made
  again in turn), and its median is kept: a run of a few seconds on a shared
  machine takes a neighbour's burst whole.

For each ``--odbc-sizes`` size, a Sage-100-shaped source (fixtures/sage100) grown
to that many entry lines, read through the SQLite ODBC driver and psqlODBC
(``--pg``): a bare pyodbc ``fetchmany`` loop, then a full sync into SQLite.
``--plan`` adds the dunning planner over 1M open items and 100 000 customers.

Generated files are kept in ``--data`` (default bench/.data) for the next run.
The table, with each measure's ratio to its reference and the issue's targets
checked, goes to bench/results/run.md (or ``--out``) and stdout.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from _common import ROOT, child, fec_file
from sync import FLOOR as CSV_FLOOR
from sync import config, scratch_schema

from sageconnect.store import staging
from sageconnect.store.sync import PHASES

SQLITE_TYPED = """
CREATE TABLE typed AS SELECT
  JournalCode AS journal, EcritureNum AS entry,
  date(substr(EcritureDate, 1, 4) || '-' || substr(EcritureDate, 5, 2)
       || '-' || substr(EcritureDate, 7, 2)) AS day,
  CompteNum AS account, CompAuxNum AS customer, CompAuxLib AS customer_name,
  PieceRef AS piece, EcritureLib AS label,
  CAST(round(CAST(replace(Debit, ',', '.') AS REAL) * 100) AS INTEGER)
  - CAST(round(CAST(replace(Credit, ',', '.') AS REAL) * 100) AS INTEGER) AS amount,
  NULLIF(EcritureLet, '') AS lettering,
  CASE WHEN DateLet <> '' THEN date(substr(DateLet, 1, 4) || '-'
       || substr(DateLet, 5, 2) || '-' || substr(DateLet, 7, 2)) END AS lettered_on
FROM raw;
SELECT COUNT(*) FROM typed;
"""
PG_FLOOR = """
import sys, psycopg
url, path, header = sys.argv[1], sys.argv[2], sys.argv[3].split("\\t")
cols = ", ".join(f'"{c}" text' for c in header)
with psycopg.connect(url, autocommit=False) as conn:
    conn.execute("DROP TABLE IF EXISTS raw, typed")
    conn.execute(f"CREATE UNLOGGED TABLE raw ({cols})")
    with conn.cursor().copy(
        "COPY raw FROM STDIN (FORMAT csv, DELIMITER E'\\\\t', QUOTE E'\\\\x01', HEADER true)"
    ) as copy, open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            copy.write(chunk)
    conn.execute('''CREATE UNLOGGED TABLE typed AS SELECT
      "JournalCode" AS journal, "EcritureNum" AS entry,
      to_date("EcritureDate", 'YYYYMMDD') AS day, "CompteNum" AS account,
      "CompAuxNum" AS customer, "CompAuxLib" AS customer_name,
      "PieceRef" AS piece, "EcritureLib" AS label,
      (replace("Debit", ',', '.')::numeric * 100)::bigint
      - (replace("Credit", ',', '.')::numeric * 100)::bigint AS amount,
      NULLIF("EcritureLet", '') AS lettering,
      to_date(NULLIF("DateLet", ''), 'YYYYMMDD') AS lettered_on
    FROM raw''')
    n = conn.execute("SELECT COUNT(*) FROM typed").fetchone()[0]
    conn.execute("DROP TABLE raw, typed")
    conn.commit()
print(n)
"""
# The least any sync written in Python does, whatever its design: read every line
# with the csv module (Decimal amounts, dates), and write the receivable lines
# (accounts 411...) typed, as the staging table's columns, through the driver's
# bulk path: executemany on SQLite, COPY on PostgreSQL. No mapping, no key, no
# merge into indexed tables, no lettering, no matching.
PY_FLOOR = """
import csv, sys, datetime as dt
from decimal import Decimal
target, path, cols = sys.argv[1], sys.argv[2], sys.argv[3]  # the staging table's
names = ", ".join(c.split()[0] for c in cols.split(", "))
def day(text):
    return dt.date(int(text[:4]), int(text[4:6]), int(text[6:])) if text else None
def rows():
    with open(path, encoding="utf-8-sig", newline="") as f:
        lines = csv.reader(f, delimiter="\\t")
        next(lines)
        for n, r in enumerate(lines, 2):
            d = day(r[3])
            a = Decimal(r[11].replace(",", ".")) - Decimal(r[12].replace(",", "."))
            if r[4].startswith("411"):
                key = f"{r[0]}/{r[2]}/{r[3]}/{r[6]}"
                yield (key, r[6], r[8], "invoice", d, d, "terms", int(a * 100),
                       "EUR", None, r[0], r[10], r[13] or None, day(r[14]), n)
if target.startswith("postgresql"):
    import psycopg
    with psycopg.connect(target) as conn:
        conn.execute(f"CREATE TEMPORARY TABLE staged ({cols})")
        with conn.cursor().copy(f"COPY staged ({names}) FROM STDIN") as copy:
            for row in rows():
                copy.write_row(row)
        print(conn.execute("SELECT COUNT(*) FROM staged").fetchone()[0])
else:
    import sqlite3
    sqlite3.register_adapter(dt.date, dt.date.isoformat)
    conn = sqlite3.connect(target)
    conn.execute(f"CREATE TEMPORARY TABLE staged ({cols})")
    marks = ", ".join("?" * len(names.split(", ")))
    conn.executemany(f"INSERT INTO staged ({names}) VALUES ({marks})", rows())
    print(conn.execute("SELECT COUNT(*) FROM staged").fetchone()[0])
    conn.commit()
"""
LABEL, LETTERING, LETTERED_ON = 10, 13, 14  # FEC columns (0-based)


@dataclass(frozen=True, slots=True)
class Row:
    size: str
    measure: str
    rows: int
    wall: float
    rss: int
    ref: str = ""  # the measure this one is compared with, in the same size
    inner: float | None = None  # the sync's own seconds (its sync_finished event)
    # where the sync's time went, as sync_finished states it: (phase, seconds)
    phases: tuple[tuple[str, float], ...] = ()
    staged: int | None = None  # rows a Python floor wrote (the receivable lines)
    walls: tuple[float, ...] = ()  # every run's wall seconds, of a repeated measure

    def after_read(self) -> float:
        """Seconds of the phases after the rows are staged: merge, lettering, match."""
        return sum(seconds for name, seconds in self.phases if name != "read")

    def rate(self) -> str:
        return f"{self.rows / self.wall:,.0f}" if self.wall else "-"


def parse_size(text: str) -> int:
    text = text.strip().lower()
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text.rstrip("km")) * scale)


def changed_copy(source: Path, target: Path, every: int = 100) -> int:
    """Copy the FEC with every ``every``-th line changed; return how many lines."""
    changed = 0
    with source.open("rb") as src, target.open("wb") as out:
        out.write(src.readline())
        for n, line in enumerate(src, start=1):
            if n % every == 0:
                end = line[len(line.rstrip(b"\r\n")) :]
                fields = line.rstrip(b"\r\n").split(b"\t")
                fields[LABEL] += b" (rev.)"
                if n % (3 * every) == 0 and fields[LETTERING]:
                    fields[LETTERING] = fields[LETTERED_ON] = b""
                out.write(b"\t".join(fields) + end)
                changed += 1
            else:
                out.write(line)
    return changed


def header(path: Path) -> str:
    with path.open(encoding="utf-8-sig") as f:
        return f.readline().rstrip("\r\n")


def sqlite_floor(fec: Path, work: Path) -> tuple[float, int, str]:
    db = work / "floor.db"
    db.unlink(missing_ok=True)
    script = f'.mode ascii\n.separator "\\t" "\\n"\n.import {fec} raw\n{SQLITE_TYPED}'
    (work / "floor.sql").write_text(script, encoding="utf-8")
    result = child(["sh", "-c", f"sqlite3 {db} < {work / 'floor.sql'}"])
    db.unlink()
    return result


def python_floor(size: str, lines: int, fec: Path, name: str, target: str) -> Row:
    """PY_FLOOR into ``target`` (a SQLite file or a PostgreSQL URL), against the
    store's own floor: what is left of the 2x target for the rest of a sync."""
    columns = staging.INVOICES.definition()
    wall, rss, out = child([sys.executable, "-c", PY_FLOOR, target, str(fec), columns])
    staged = int(out.split()[-1])
    print(f"  floor: python csv + typed write to {name} {wall:.2f} s", flush=True)
    return Row(
        size,
        f"floor: python to {name}",
        lines,
        wall,
        rss,
        f"floor: {name}",
        staged=staged,
    )


def sync_measures(
    size: str,
    lines: int,
    fec: Path,
    store: tuple[str, str],
    work: Path,
    *,
    repeat: int = 1,
) -> list[Row]:
    """Full sync, unchanged re-sync, and re-sync after 1 % changed, into one store.

    Each re-sync is measured ``repeat`` times and its median kept (peak memory:
    the highest), since a few seconds' run takes a neighbour's burst whole: the
    1 % change is undone and made again in turn, each time the same lines.
    """
    name, url = store
    folder = work / f"src-{name}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    live = folder / fec.name
    shutil.copyfile(fec, live)
    cfg = config(work, live, url)
    cfg.write_text(cfg.read_text().replace('"warning"', '"info"'), encoding="utf-8")
    exe = str(Path(sys.executable).parent / "sageconnect")
    full = f"{name}: full sync"
    rows = []
    for label, ref in [
        (full, f"floor: {name}"),
        (f"{name}: re-sync unchanged", full),
        (f"{name}: re-sync 1% changed", full),
    ]:
        samples = []
        for turn in range(1 if label == full else repeat):
            if label.endswith("1% changed"):
                if turn % 2:
                    shutil.copyfile(fec, live)
                else:
                    changed_copy(fec, live)
            # the JSON log (stderr) is what the sync says of itself: read it too
            logged = ["sh", "-c", 'exec "$0" sync -c "$1" 2>&1', exe, str(cfg)]
            wall, rss, out = child(logged)
            inner, phases = _sync_seconds(out)
            samples.append(Row(size, label, lines, wall, rss, ref, inner, phases))
            print(f"  {label}: {wall:.2f} s ({inner} s in sync), {rss} MiB", flush=True)
        samples.sort(key=lambda r: r.wall)
        median = samples[len(samples) // 2]
        rows.append(
            replace(
                median,
                rss=max(r.rss for r in samples),
                walls=tuple(r.wall for r in samples) if len(samples) > 1 else (),
            )
        )
    return rows


def _sync_seconds(out: str) -> tuple[float | None, tuple[tuple[str, float], ...]]:
    """The duration the sync_finished event states (the process less start-up),
    and the seconds of each of its phases."""
    for line in out.splitlines():
        if '"sync_finished"' in line:
            said = json.loads(line)
            phases = tuple(
                (name, float(said[f"{name}_s"]))
                for name in PHASES
                if f"{name}_s" in said
            )
            return float(said["duration_s"]), phases
    return None, ()


def fec_size(
    size: str, data: Path, pg: str | None, work: Path, repeat: int = 1
) -> list[Row]:
    lines = parse_size(size)
    fec = fec_file(lines, data)
    wall, rss, _ = child([sys.executable, "-c", CSV_FLOOR, str(fec)])
    rows = [Row(size, "floor: python csv + Decimal + dates", lines, wall, rss)]
    wall, rss, _ = sqlite_floor(fec, work)
    rows.append(Row(size, "floor: sqlite", lines, wall, rss))
    print(f"  floors: csv {rows[0].wall:.2f} s, sqlite3 {wall:.2f} s", flush=True)
    rows.append(python_floor(size, lines, fec, "sqlite", str(work / "py.db")))
    (work / "py.db").unlink()
    db = work / f"store{lines}.db"
    db.unlink(missing_ok=True)
    sqlite = ("sqlite", f"sqlite:///{db}")
    rows += sync_measures(size, lines, fec, sqlite, work, repeat=repeat)
    db.unlink()
    if pg:
        schema = f"bench_run_{lines}"
        url = scratch_schema(pg, schema)
        try:
            floor = child([sys.executable, "-c", PG_FLOOR, url, str(fec), header(fec)])
            rows.append(Row(size, "floor: postgresql", lines, floor[0], floor[1]))
            print(f"  floor: postgresql COPY {floor[0]:.2f} s", flush=True)
            rows.append(python_floor(size, lines, fec, "postgresql", url))
            postgresql = ("postgresql", url)
            rows += sync_measures(size, lines, fec, postgresql, work, repeat=repeat)
        finally:
            scratch_schema(pg, schema, drop=True)
    return rows


def odbc_size(size: str, pg: str | None, work: Path) -> list[Row]:
    import odbc  # noqa: PLC0415 - imports pyodbc: only when ODBC is measured

    rows: list[Row] = []
    build = odbc.builder()
    target = parse_size(size)
    sources = []
    conn = build.connect("sqlite", path=work / "sage.db")  # type: ignore[attr-defined]
    build.build(conn, "sqlite", customers=2000, entries=odbc.BASE_ENTRIES, seed=7)  # type: ignore[attr-defined]
    odbc.grow(conn, target)
    conn.close()
    sources.append(("SQLite ODBC", f"Driver={{SQLite3}};Database={work / 'sage.db'}"))
    cleanup = None
    if pg:
        base, source = odbc.pg_source(pg)
        conn = build.connect("postgresql", dsn_string=base, schema="bench_odbc")  # type: ignore[attr-defined]
        build.build(
            conn, "postgresql", customers=2000, entries=odbc.BASE_ENTRIES, seed=7
        )  # type: ignore[attr-defined]
        odbc.grow(conn, target, server=True)
        conn.close()
        sources.append(("psqlODBC", source))
        cleanup = base
    try:
        for label, source in sources:
            rows += odbc.floor_and_sync(label, source, work, size)
    finally:
        if cleanup:
            odbc.drop_schema(cleanup)
    return [Row(size, m, n, w, r, ref) for m, n, w, r, ref in rows]


def plan_rows() -> list[Row]:
    cmd = [sys.executable, str(ROOT / "bench/plan.py"), "--measure", "plan"]
    _, rss, out = child(cmd)
    seconds = float(json.loads(out)["seconds"])
    return [Row("1M items", "dunning plan (100k customers)", 1_000_000, seconds, rss)]


def render(rows: list[Row]) -> str:
    by_key = {(r.size, r.measure): r for r in rows}
    lines = [
        (
            "| size | measure | rows | wall s | in sync s | rows/s | peak RSS MiB"
            " | vs | sync phases s |"
        ),
        "|---|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in rows:
        ref = by_key.get((r.size, r.ref))
        vs = f"{r.wall / ref.wall:.2f}x {r.ref}" if ref and ref.wall else ""
        if ref and ref.inner and r.inner is not None:
            vs += f" (in sync: {r.inner / ref.inner:.1%})"
        if ref and _over_bare_loop(r):
            vs += f" (+{r.rss - ref.rss} MiB)"
        if r.walls:
            vs += f" (median of {len(r.walls)}: {' '.join(f'{w:.2f}' for w in r.walls)} s)"
        lines.append(
            f"| {r.size} | {r.measure} | {r.rows} | {r.wall:.2f}"
            f" | {'' if r.inner is None else f'{r.inner:.2f}'} | {r.rate()}"
            f" | {r.rss} | {vs} | {' · '.join(f'{n} {t:.2f}' for n, t in r.phases)} |"
        )
    return "\n".join(lines) + "\n"


def _over_bare_loop(r: Row) -> bool:
    """An ODBC sync measured against the bare driver loop (its memory target)."""
    return "ODBC" in r.ref and "floor" in r.ref


def _verdict(r: Row, by_key: dict[tuple[str, str], Row]) -> tuple[str, bool] | None:
    """The issue's target this measure answers, and whether it is met."""
    if r.measure.startswith("dunning plan"):
        return f"{r.measure}: {r.wall:.2f} s (target 15 s)", r.wall < 15
    ref = by_key.get((r.size, r.ref))
    if ref is None or not ref.wall or r.staged is not None:  # a floor: no target
        return None
    ratio = r.wall / ref.wall
    if _over_bare_loop(r):
        extra = r.rss - ref.rss
        return f"{r.size} {r.measure}: +{extra} MiB over the bare loop (target 150)", (
            extra <= 150
        )
    memory = f", peak {r.rss} MiB (target 300)"
    if r.ref.startswith("floor"):
        text = f"{r.size} {r.measure}: {ratio:.2f}x its floor (target 2x){memory}"
        if r.phases:  # what is left once the rows are staged, against the floor
            text += (
                f"; merge, lettering and match alone: {r.after_read():.2f} s,"
                f" {r.after_read() / ref.wall:.2f}x the floor"
            )
        store = r.ref.removeprefix("floor: ")
        python = by_key.get((r.size, f"floor: python to {store}"))
        if python and python.wall:  # the least a Python sync does, same run
            text += (
                f"; a bare Python read and typed write of the {python.staged:,}"
                f" receivable lines alone: {python.wall:.2f} s,"
                f" {python.wall / ref.wall:.2f}x the floor (the sync:"
                f" {r.wall / python.wall:.2f}x that)"
            )
        return text, ratio < 2 and r.rss < 300
    limit = 0.10 if r.measure.endswith("unchanged") else 0.25
    text = f"{r.size} {r.measure}: {ratio:.1%} of the full sync (target {limit:.0%})"
    return text + memory, ratio < limit and r.rss < 300


def targets(rows: list[Row]) -> str:
    """The issue's targets, each checked against this run's figures."""
    by_key = {(r.size, r.measure): r for r in rows}
    out = []
    for r in rows:
        found = _verdict(r, by_key)
        if found:
            out.append(f"- [{'x' if found[1] else ' '}] {found[0]}")
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100k,1M", help="FEC lines, e.g. 100k,1M,5M")
    parser.add_argument("--odbc-sizes", default="", help="ODBC entry lines, e.g. 1M")
    parser.add_argument("--plan", action="store_true", help="measure the planner")
    parser.add_argument("--pg", help="PostgreSQL URL of a scratch database")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of each re-sync (the median kept)"
    )
    parser.add_argument("--data", type=Path, default=ROOT / "bench" / ".data")
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/run.md")
    args = parser.parse_args()
    started = dt.datetime.now(dt.UTC)
    load = os.getloadavg()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in filter(None, args.sizes.split(",")):
            print(f"FEC {size}", flush=True)
            rows += fec_size(size, args.data, args.pg, Path(tmp), args.repeat)
        for size in filter(None, args.odbc_sizes.split(",")):
            print(f"ODBC {size}", flush=True)
            rows += odbc_size(size, args.pg, Path(tmp))
    if args.plan:
        print("plan", flush=True)
        rows += plan_rows()
    table = render(rows)
    text = (
        f"Command: {' '.join(sys.argv)}\n"
        f"Started {started:%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores,"
        f" load average {load[0]:.1f} at start, {os.getloadavg()[0]:.1f} at end"
        " (a shared machine: compare ratios within this run).\n\n"
        f"{table}\n'wall s' is the whole process, start-up included (about a second"
        " of imports for the CLI); 'in sync s' is the duration the sync_finished"
        " event states.\n\nTargets (on whole-process wall time):\n\n"
        f"{targets(rows)}"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
