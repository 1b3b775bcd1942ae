"""Benchmark: the dunning plan as a user waits for it, reading the store first.

    .venv/bin/python bench/plan_store.py [--customers 100000 --items 1000000]
        [--db /tmp/plan_store.db] [--rechecks 20]

bench/plan.py times ``plan(...)`` on inputs built in memory; ``sageconnect
dunning plan`` and each ``run --once`` cycle first read those inputs from the
store (``dunning.snapshot.snapshot``: open items, invoice ids, customers and
contacts, pauses, history). This script writes bench/plan.py's seeded inputs
into a SQLite store (once: the file is kept and reused while its size matches),
then measures in a fresh process each:

- plan: the whole of ``sageconnect dunning plan`` but printing: the planner's
  inputs read and planned a batch of customers at a time (``Planner.batches``);
- send: a send cycle's planning: the same, each batch recorded in the
  reminders ledger (``ledger.record``), rolled back;
- whole: one snapshot and one plan of everything, as before batches;
- recheck: ``send`` plans each queued message's customer again from the store
  just before it leaves (``send._recheck``); the seconds of ``--rechecks``
  customers, and that times the reminders planned, for a whole first cycle.

Partial payments are written as payments allocated to their invoice; bank money
pending (bench/plan.py's 2% of items with nothing to chase) is left out, so the
plan differs from bench/plan.py's by those items. Results go to
bench/results/plan_store.md and stdout.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import sqlite3
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from _common import Result, child, write_results
from plan import AS_OF, COMPANY, SETTINGS, generate
from sqlalchemy import Connection

from sageconnect.dunning.interest import Rates
from sageconnect.dunning.ledger import record, states, supersede
from sageconnect.dunning.planner import Item, Pause, Plan, plan
from sageconnect.dunning.send import BATCH
from sageconnect.dunning.snapshot import Snapshot, snapshot, snapshots
from sageconnect.gcpause import paused
from sageconnect.store.engine import open_store

NOW = "2026-11-24 06:00:00.000000"


def cents(value: object) -> int:
    return int(str(value).replace(".", ""))


def paid(item: Item) -> int:
    return cents(item.amount) - cents(item.open)


def until(pause: Pause) -> str | None:
    return pause.until.isoformat() if pause.until else None


def build(db: Path, customers: int, items: int) -> None:
    """The seeded inputs of bench/plan.py, written as a synced store."""
    db.unlink(missing_ok=True)
    open_store(f"sqlite:///{db}").dispose()
    inputs = generate(customers, items)
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("INSERT INTO companies VALUES (1, 'bench', 'Bench', 'EUR')")
    conn.execute(
        "INSERT INTO sync_runs (id, run_uid, company_id, source, started_at,"
        " finished_at, status, read, inserted, updated, closed, rejected)"
        " VALUES (1, 'r1', 1, 'bench', ?, ?, 'completed', 0, 0, 0, 0, 0)",
        (NOW, NOW),
    )
    conn.executemany(
        "INSERT INTO customers (id, company_id, code, name, account, email, phone,"
        " language, dunning_excluded, category, consumer, first_run_id,"
        " changed_run_id) VALUES (?, 1, ?, ?, ?, ?, '', 'fr', ?, ?, ?, 1, 1)",
        (
            (d.id, d.code, d.name, f"411{d.code}", d.email, d.excluded, *flags)
            for d in inputs.debtors
            for flags in [(d.category, d.consumer)]
        ),
    )
    conn.executemany(
        "INSERT INTO contacts (company_id, customer_id, key, name, role, email,"
        " phone, first_run_id, changed_run_id) VALUES (1, ?, ?, ?, ?, ?, '', 1, 1)",
        (
            (d.id, f"K{d.id}", f"Compta {d.id}", "Comptabilité", d.email)
            for d in inputs.debtors[::2]
            if d.email
        ),
    )
    ids = {d.code: d.id for d in inputs.debtors}
    conn.executemany(
        "INSERT INTO invoices (id, company_id, customer_id, key, number, kind,"
        " issued, due, due_source, amount, currency, journal, label,"
        " first_run_id, changed_run_id) VALUES"
        " (?, 1, ?, ?, ?, 'invoice', ?, ?, 'source', ?, 'EUR', 'VE', '', 1, 1)",
        (
            (i.invoice_id, ids[i.customer], i.key, i.number, *dates, cents(i.amount))
            for i in inputs.items
            for dates in [(i.issued.isoformat(), i.due.isoformat())]
        ),
    )
    partial = [i for i in inputs.items if i.open != i.amount]
    conn.executemany(
        "INSERT INTO payments (id, company_id, customer_id, key, kind, received,"
        " amount, currency, journal, reference, label, first_run_id,"
        " changed_run_id) VALUES (?, 1, ?, ?, 'payment', ?, ?, 'EUR', 'BQ', '',"
        " '', 1, 1)",
        (
            (n, ids[i.customer], f"BQ/{n}", i.issued.isoformat(), paid(i))
            for n, i in enumerate(partial, 1)
        ),
    )
    conn.executemany(
        "INSERT INTO allocations (company_id, customer_id, invoice_id, payment_id,"
        " amount, allocated_on, origin) VALUES (1, ?, ?, ?, ?, ?, 'lettering')",
        (
            (ids[i.customer], i.invoice_id, n, paid(i), i.issued.isoformat())
            for n, i in enumerate(partial, 1)
        ),
    )
    owner = {i.invoice_id: ids[i.customer] for i in inputs.items}
    messages: dict[tuple[int, str, str, dt.date], list[int]] = defaultdict(list)
    for d in inputs.done:
        messages[owner[d.invoice_id], d.step, d.channel, d.on].append(d.invoice_id)
    conn.executemany(
        "INSERT INTO reminders (id, key, company_id, customer_id, scenario, step,"
        " channel, planned_on, state, total, payload, payload_hash, attempts)"
        " VALUES (?, ?, 1, ?, 'standard', ?, ?, ?, 'sent', 0, '{}', '', 1)",
        (
            (n, f"R{n}", cust, step, channel, on.isoformat())
            for n, (cust, step, channel, on) in enumerate(messages, 1)
        ),
    )
    conn.executemany(
        "INSERT INTO reminder_items (reminder_id, invoice_id, step, channel, open)"
        " VALUES (?, ?, ?, ?, 0)",
        (
            (n, invoice, step, channel)
            for n, ((_, step, channel, _), invoices) in enumerate(messages.items(), 1)
            for invoice in invoices
        ),
    )
    conn.executemany(
        "INSERT INTO pauses (company_id, customer_id, invoice_id, kind, reason,"
        " until, created_by, created_at, origin) VALUES (1, ?, ?, ?, ?, ?, 'bench',"
        " ?, 'cli')",
        (
            (ids[p.customer], p.invoice_id, p.kind, p.reason, until(p), NOW)
            for p in inputs.pauses
        ),
    )
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()


def _plan(snap: Snapshot) -> Plan:
    """The bench scenarios' plan of what a snapshot read."""
    return plan(
        company=COMPANY,
        debtors=snap.debtors,
        items=snap.items,
        pauses=snap.pauses,
        done=snap.done,
        settings=SETTINGS,
        rates=Rates.build(),
        as_of=AS_OF,
    )


def _batches(conn: Connection) -> Iterator[tuple[Snapshot, Plan]]:
    """As ``Planner.batches``: a batch of customers at a time, under one pause."""
    with paused():
        for snap in snapshots(conn, 1, AS_OF, pending_days=10, size=BATCH):
            yield snap, _plan(snap)


def measure(name: str, db: Path, rechecks: int) -> None:
    """In the child: one measure over the store; print JSON on stdout."""
    engine = open_store(f"sqlite:///{db}")
    out: dict[str, object] = {}
    counts = {"items": 0, "reminders": 0, "skipped": 0, "recorded": 0}
    codes: list[str] = []
    with engine.connect() as conn:
        started = time.perf_counter()
        cpu = time.process_time()
        if name == "whole":  # one snapshot and one plan of everything
            with paused():
                snap = snapshot(conn, 1, AS_OF, pending_days=10)
                result = _plan(snap)
            counts.update(items=len(snap.items), reminders=len(result.reminders))
            counts.update(skipped=len(result.skipped))
            del snap, result
        else:  # as send_company: read on one connection, record on another
            known = states(conn, 1) if name == "send" else {}
            with engine.connect() as writer:
                for snap, result in _batches(conn):
                    counts["items"] += len(snap.items)
                    counts["reminders"] += len(result.reminders)
                    counts["skipped"] += len(result.skipped)
                    if name == "send":  # each part in its transaction, rolled back
                        with writer.begin() as transaction:
                            counts["recorded"] += record(
                                writer, 1, result.reminders, AS_OF, known
                            )
                            transaction.rollback()
                    if name == "recheck":
                        codes += sorted({p.notice.customer for p in result.reminders})
                if name == "send":
                    with writer.begin() as transaction:
                        supersede(writer, 1, AS_OF)
                        transaction.rollback()
            conn.rollback()
        gc.collect()  # what the pause put off, counted: the collector's catch-up
        out["seconds"] = time.perf_counter() - started
        out["cpu"] = time.process_time() - cpu
        out.update(counts)
        if name == "recheck":
            sample = codes[:: max(1, len(codes) // rechecks)][:rechecks]
            started = time.perf_counter()
            for code in sample:
                _plan(snapshot(conn, 1, AS_OF, pending_days=10, customer=code))
            each = (time.perf_counter() - started) / len(sample)
            out["seconds"] = each
            out["recheck_each"] = each
            out["recheck_all"] = each * len(codes)
    print(json.dumps(out))


LABELS = {
    "plan": "`dunning plan` but printing: snapshot + plan, a batch at a time",
    "send": "a send cycle's planning: the same, each batch recorded (rolled back)",
    "whole": "one snapshot + one plan of everything (before batches)",
    "recheck": "recheck one customer from the store (send, per message)",
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument(
        "--db", type=Path, default=Path(tempfile.gettempdir()) / "plan_store.db"
    )
    parser.add_argument("--rechecks", type=int, default=20)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--measure", choices=list(LABELS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(args.measure, args.db, args.rechecks)
        return
    stamp = args.db.with_suffix(".size")
    size = f"{args.customers} {args.items}"
    built = stamp.read_text() if stamp.exists() and args.db.exists() else ""
    if args.rebuild or built != size:  # a store left half-built has no stamp
        started = time.perf_counter()
        stamp.unlink(missing_ok=True)
        build(args.db, args.customers, args.items)
        stamp.write_text(size)
        print(f"store built in {time.perf_counter() - started:.1f} s", flush=True)
    rows: list[Result] = []
    notes = []
    for name, label in LABELS.items():
        cmd = [sys.executable, str(Path(__file__).resolve()), "--measure", name]
        _, rss, text = child(
            [*cmd, "--db", str(args.db), "--rechecks", str(args.rechecks)]
        )
        found = json.loads(text)
        rows.append((label, args.items, found["seconds"], rss))
        notes.append(f"- {name}: {json.dumps(found)}")
        print(f"{label}: {found['seconds']:.3f} s, {rss} MiB {found}", flush=True)
    table = write_results("plan_store", rows, unit="items")
    with (Path(__file__).resolve().parent / "results" / "plan_store.md").open(
        "a", encoding="utf-8"
    ) as f:
        f.write(
            f"\n{args.customers} customers, {args.items} invoices written from"
            " bench/plan.py's generator; 'recheck' row: seconds per customer"
            " (recheck_all: that times the customers with a reminder).\n\n"
            + "\n".join(notes)
            + "\n"
        )
    print(table)


if __name__ == "__main__":
    main()
