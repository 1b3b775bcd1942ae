"""Reconcile a mapper's records into the store, idempotently, in one transaction.

The checkpoint (the source's fingerprint) is written in the same transaction as
the data it covers: a crash, or a stop request (checked every few hundred
records), leaves the store as it was before the run, and the next run reads
again. A source whose fingerprint has not changed is not read.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine, insert, select, update

from sageconnect import failpoints, shutdown
from sageconnect.errors import Stopped
from sageconnect.ledger.matching import METHODS
from sageconnect.mapping.documents import Row
from sageconnect.mapping.protocol import Mapper, Reading
from sageconnect.model.records import Invoice, Keyed, Payment, Record, Reject
from sageconnect.store import allocations as alloc
from sageconnect.store import digests, planner, staging
from sageconnect.store.bulk import Growth, referenced
from sageconnect.store.matching import rematch
from sageconnect.store.merge import merge, orphans
from sageconnect.store.rejects import record_rejects
from sageconnect.store.settlements import settle
from sageconnect.store.tables import checkpoints, companies, sync_runs

BATCH = 5000
CHECK_EVERY = 500  # records between two looks at a stop request
STREAM = "ledger"
_ITEMS = (Invoice, Payment)
# Where a sync's time goes, each logged as <phase>_s: reading the source into the
# staging tables (cutting, parsing, writing the rows), merging them into the
# store (and the entries' digests), lettering allocations (and the settlements
# the source states), and our own matching.
PHASES = ("read", "merge", "lettering", "match")


@dataclass(slots=True)
class SyncReport:
    """What one sync did; the fields of the sync_finished event."""

    run_uid: str
    company: str
    source: str
    status: str = "running"
    read: int = 0
    inserted: int = 0
    updated: int = 0
    closed: int = 0
    rejected: int = 0
    new_rejects: int = 0
    allocations: int = 0
    matched: int = 0
    source_unchanged: bool = False
    full_read: bool = False
    duration_s: float = 0.0
    rejects: list[Reject] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=lambda: dict.fromkeys(PHASES, 0.0))

    @contextmanager
    def timing(self, phase: str) -> Iterator[None]:
        """Add the time the block takes to ``phase`` (one of PHASES)."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.phases[phase] += time.perf_counter() - start

    def phase_seconds(self) -> dict[str, float]:
        """``<phase>_s``: each phase's seconds, as sync_finished states them."""
        return {f"{name}_s": round(self.phases[name], 3) for name in PHASES}


def ensure_company(engine: Engine, code: str, name: str, currency: str) -> int:
    with engine.begin() as conn:
        found = conn.execute(
            select(companies.c.id).where(companies.c.code == code)
        ).scalar()
        if found is not None:
            conn.execute(
                update(companies)
                .where(companies.c.id == found)
                .values(name=name, currency=currency)
            )
            return int(found)
        return int(
            conn.execute(
                insert(companies).values(code=code, name=name, currency=currency)
            ).inserted_primary_key[0]  # type: ignore[index]
        )


def sync(
    engine: Engine,
    company_id: int,
    report: SyncReport,
    mapper: Mapper,
    now: Callable[[], dt.datetime],
    *,
    full: bool = False,
    methods: Sequence[str] = METHODS,
) -> SyncReport:
    """Run one sync of ``mapper`` into the company's data; return its report.

    ``methods`` are the matching passes for credits the source has not lettered.
    """
    started = time.perf_counter()
    run = _start_run(engine, company_id, report, now())
    try:
        with engine.connect() as conn:
            previous = conn.execute(
                select(checkpoints.c.value).where(
                    checkpoints.c.company_id == company_id,
                    checkpoints.c.stream == STREAM,
                )
            ).scalar()
        with report.timing("read"):
            reading = mapper.read(previous, full=full)
        if reading is not None:
            planner.analyze_bare(engine)
        with engine.begin() as conn:
            if reading is None:
                report.source_unchanged = True
            else:
                planner.configure(conn)  # before the first statement it would plan
                known = None
                if getattr(reading, "digests", False) and previous and not full:
                    with report.timing("read"):
                        known = digests.load(conn, company_id) or None
                report.full_read = reading.complete and known is None
                _load(
                    conn, company_id, run, reading, report, methods=methods, known=known
                )
                _save_checkpoint(conn, company_id, run, reading.checkpoint(), previous)
            report.status = "completed_with_rejects" if report.rejected else "completed"
            report.duration_s = round(time.perf_counter() - started, 3)
            _finish_run(conn, run, report, now())
    except BaseException as exc:
        report.status = "interrupted" if isinstance(exc, Stopped) else "failed"
        report.duration_s = round(time.perf_counter() - started, 3)
        with engine.begin() as conn:
            _finish_run(conn, run, report, now(), error=f"{type(exc).__name__}: {exc}")
        raise
    return report


def _load(
    conn: Connection,
    company: int,
    run: int,
    reading: Reading,
    report: SyncReport,
    *,
    methods: Sequence[str],
    known: digests.Known | None,
) -> None:
    """Stage what the reading gives, merge it, then allocate and match.

    ``known``: the digests of the entries the store holds, when the reading can
    skip those; then only what changed is read, and what is gone is closed by
    digest instead of by absence.
    """
    routes = staging.ROUTES
    digested = bool(getattr(reading, "digests", False))
    with report.timing("read"):
        for stage, _, _ in routes.values():
            stage.create(conn)
        if digested:
            digests.create(conn)
        _stage(conn, _source(reading, known, digested), report, digested)
    with report.timing("merge"):
        alloc.start(conn)
        shared: list[str] = []
        for stage, _, target in routes.values():
            shutdown.check()
            shared += _merge_stage(
                conn, stage, target, company=company, run=run, report=report
            )
        if digested:
            _keep_digests(conn, company, run, known=known, shared=shared, report=report)
    _settle_and_match(conn, company, run, reading, report, methods=methods)
    for stage, _, _ in routes.values():
        stage.drop(conn)


def _merge_stage(
    conn: Connection,
    stage: staging.Stage,
    target: str,
    *,
    company: int,
    run: int,
    report: SyncReport,
) -> list[str]:
    """Merge one staging table (settlements wait for the items); its shared keys."""
    duplicates = stage.drop_duplicates(conn)
    report.rejects += [
        Reject(
            where=f"{target}/{key}",
            reason=f"{copies} rows share this key (entry lines not contiguous,"
            " or one fiscal year in two files): the first read is kept",
        )
        for key, copies in duplicates
    ]
    if stage is staging.SETTLEMENTS:
        return [key for key, _ in duplicates]  # merged after the items they settle
    if stage is not staging.CUSTOMERS:
        report.rejects += [
            Reject(
                where=f"{target}/{key}",
                field="customer",
                value=code,
                reason="unknown customer: not among the source's customers",
            )
            for key, code in orphans(conn, stage, company)
        ]
    lettered = stage in (staging.INVOICES, staging.PAYMENTS)
    counts = merge(
        conn,
        stage,
        target,
        company,
        run,
        close=report.full_read,
        before_update=alloc.remember if lettered else None,  # before codes change
    )
    report.inserted += counts.inserted
    report.updated += counts.updated
    report.closed += counts.closed
    return [key for key, _ in duplicates]


def _source(
    reading: Reading, known: digests.Known | None, digested: bool
) -> Iterable[tuple[int | None, Iterable[Record | Row]]]:
    """What to stage: (digest, records) by entry, or one group of everything;
    staged rows where the reading gives them."""
    if digested:
        return reading.entries(known, rows=True)  # type: ignore[attr-defined,no-any-return]
    rows = getattr(reading, "staged_rows", None)
    return [(None, rows() if callable(rows) else reading.records())]


def _stage(
    conn: Connection,
    source: Iterable[tuple[int | None, Iterable[Record | Row]]],
    report: SyncReport,
    digested: bool,
) -> None:
    """Stream records into the staging tables in batches; digests alongside."""
    staged = _Staged(conn)
    marks: list[tuple[int, str | None]] = []
    for digest, records in source:
        keyed = False
        for record in records:
            if isinstance(record, Reject):
                report.rejects.append(record)
                continue
            report.read += 1
            if report.read % CHECK_EVERY == 0:  # a stop raises Stopped: rolled back
                failpoints.hit("sync.read_batch")
                shutdown.check()
            kind, key = staged.add(record, report.read)
            if digested and kind in _ITEMS:
                marks.append((digest or digests.VOLATILE, key))
                keyed = True
        if digested and digest is not None and not keyed:
            marks.append((digest, None))
        if len(marks) >= BATCH:
            digests.add(conn, marks)
            marks.clear()
    digests.add(conn, marks)
    staged.finish()


class _Staged:
    """Rows on their way to the staging tables, written a batch at a time.

    A reading may give invoices and payments as staged rows already
    (mapping.documents.Row): those go in as they are.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        routes = staging.ROUTES
        self.buffers: dict[type, list[tuple[object, ...]]] = {k: [] for k in routes}
        self.makers = {
            k: staging.rower(tuple(cols)) for k, (_, cols, _) in routes.items()
        }

    def add(self, record: Keyed | Row, seq: int) -> tuple[type, str]:
        """Stage a record (read ``seq``-th); return its type and its key."""
        kind: type
        if isinstance(record, tuple):
            kind, values = record
        else:
            kind = type(record)
            values = self.makers[kind](record)
        buffer = self.buffers[kind]
        buffer.append((*values, seq))
        if len(buffer) >= BATCH:
            staging.ROUTES[kind][0].insert(self.conn, buffer)
            buffer.clear()
        return kind, values[0]

    def finish(self) -> None:
        for kind, (stage, _, _) in staging.ROUTES.items():
            stage.insert(self.conn, self.buffers[kind])
            stage.index(self.conn)


def _keep_digests(
    conn: Connection,
    company: int,
    run: int,
    *,
    known: digests.Known | None,
    shared: list[str],
    report: SyncReport,
) -> None:
    digests.forget(conn, shared)
    if known is None:
        digests.replace(conn, company)
        return
    report.closed += digests.apply(conn, company, run, known)
    report.closed += digests.close_empty_customers(conn, company, run)


def _settle_and_match(
    conn: Connection,
    company: int,
    run: int,
    reading: Reading,
    report: SyncReport,
    *,
    methods: Sequence[str],
) -> None:
    with report.timing("lettering"):
        touched = alloc.touch(conn, company, run)
        scope = None if touched.groups else touched.customers
        with referenced(conn):  # lettering of the open items it reads
            report.allocations = alloc.refresh(conn, company, scope)
        stated, unresolved, settled = settle(conn, company, complete=reading.complete)
        Growth(conn, "allocations").wrote(stated)  # the matching's plans see them
    report.allocations += stated
    report.rejects += unresolved
    with report.timing("match"):
        customers = settled.union(touched.customers)
        report.matched = rematch(conn, company, customers, methods)
    report.rejected = len(report.rejects)
    report.new_rejects = record_rejects(
        conn, company, run, report.rejects, complete=reading.complete
    )


def _start_run(
    engine: Engine, company: int, report: SyncReport, at: dt.datetime
) -> int:
    with engine.begin() as conn:
        return int(
            conn.execute(
                insert(sync_runs).values(
                    run_uid=report.run_uid,
                    company_id=company,
                    source=report.source[:64],
                    started_at=at,
                    status="running",
                )
            ).inserted_primary_key[0]  # type: ignore[index]
        )


def _finish_run(
    conn: Connection,
    run: int,
    report: SyncReport,
    at: dt.datetime,
    error: str | None = None,
) -> None:
    conn.execute(
        update(sync_runs)
        .where(sync_runs.c.id == run)
        .values(
            finished_at=at,
            status=report.status,
            read=report.read,
            inserted=report.inserted,
            updated=report.updated,
            closed=report.closed,
            rejected=report.rejected,
            error=error[:2000] if error else None,
        )
    )


def _save_checkpoint(
    conn: Connection, company: int, run: int, value: str, previous: str | None
) -> None:
    if previous is None:
        conn.execute(
            insert(checkpoints).values(
                company_id=company, stream=STREAM, value=value, run_id=run
            )
        )
    else:
        conn.execute(
            update(checkpoints)
            .where(checkpoints.c.company_id == company, checkpoints.c.stream == STREAM)
            .values(value=value, run_id=run)
        )


def new_run_uid() -> str:
    return uuid.uuid4().hex[:12]
