"""The write-back job: queue a note per reminder sent, write what is due.

A note is claimed, looked for in the target (read before write), written if
absent, then recorded; a failure puts it back in the queue for later, with a
doubling delay, and never reaches the sending of reminders.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import Connection, Engine

from sageconnect import failpoints, logs, shutdown
from sageconnect.clock import Clock
from sageconnect.config import Config
from sageconnect.errors import WriteBackError
from sageconnect.model.notes import Note, NoteKind
from sageconnect.store.queries import company_ids
from sageconnect.writeback import queue
from sageconnect.writeback.report import WritebackReport
from sageconnect.writeback.settings import WritebackConfig
from sageconnect.writeback.text import fit, marker, note_text
from sageconnect.writeback.writers import build_writer

if TYPE_CHECKING:
    from sageconnect.mapping.protocol import NoteWriter

STOP_AFTER = 3  # failures in a row: the target is down, the rest waits


@dataclass(slots=True)
class _Job:
    """One company's write-back run: its settings, writer, clock and counts."""

    config: Config
    code: str
    engine: Engine
    clock: Clock
    settings: WritebackConfig
    writer: NoteWriter
    report: WritebackReport

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.config.companies[self.code].timezone)

    def enqueue(self, conn: Connection, company_id: int, now: dt.datetime) -> int:
        """A note per event not queued yet; the step on the entries for sent only."""
        events: list[tuple[NoteKind, str]] = [
            ("note", o) for o in self.settings.outcomes
        ]
        if self.settings.entries:
            events.append(("entries", "sent"))
        added = 0
        for kind, outcome in events:
            found = queue.unqueued(conn, company_id, kind, outcome, self.settings.since)
            for sent in found:
                mark = marker(sent.key, outcome)
                queue.enqueue(
                    conn,
                    company_id,
                    sent,
                    kind=kind,
                    marker=mark,
                    text=self.text(sent, mark),
                    target=self.writer.name,
                    now=now,
                )
                added += 1
        return added

    def text(self, sent: queue.Sent, mark: str) -> str:
        return note_text(
            mark=mark,
            on=sent.day(self.tz),
            level=_level(self.config, sent.scenario, sent.step),
            step=sent.step,
            channel=sent.channel,
            outcome=sent.outcome,
            total=sent.total,
            interest=sent.interest,
            indemnity=sent.indemnity,
            numbers=sent.numbers,
            detail=sent.detail if sent.outcome == "failed" else "",
        )

    def write_all(self, todo: list[queue.Queued]) -> None:
        in_a_row = 0
        for done, item in enumerate(todo, start=1):
            if shutdown.requested():  # the note in flight is recorded; the rest waits
                return
            if self.write_one(item):
                in_a_row = 0
                continue
            in_a_row += 1
            if in_a_row >= STOP_AFTER:
                logs.get().warning(
                    "writeback_stopped",
                    reason=f"{STOP_AFTER} failures in a row: the rest waits",
                    left=len(todo) - done,
                )
                return

    def write_one(self, item: queue.Queued) -> bool:
        """One note: claim, look, write, record. False when the write failed."""
        log = logs.get().bind(
            customer=item.sent.customer, key=item.sent.key, kind=item.kind
        )
        lease = dt.timedelta(minutes=self.settings.lease_minutes)
        with self.engine.begin() as conn:
            attempt = queue.claim(conn, item.id, self.clock.now(), lease)
        if attempt is None:
            return True  # another process has it
        note = _note(item, self.code, self.tz, self.writer)
        try:
            found = self.writer.exists(note)
            if not found:
                self.writer.write(note)
                failpoints.hit("writeback.after_write_before_record")
        except Exception as exc:  # noqa: BLE001 - a plug-in may raise anything
            self.failed(item, attempt, exc, log)
            return False
        with self.engine.begin() as conn:
            queue.written(
                conn,
                item.id,
                attempt,
                text=note.text,
                found=found,
                now=self.clock.now(),
            )
        if found:
            self.report.found += 1
            log.info("note_found", marker=note.marker, reason="already in the target")
        else:
            self.report.written += 1
            log.info("note_written", marker=note.marker, writer=self.writer.name)
        return True

    def failed(
        self, item: queue.Queued, attempt: str, exc: Exception, log: Any
    ) -> None:
        """Back in the queue until the retry delay has passed; said in the log."""
        reason = exc.reason if isinstance(exc, WriteBackError) else repr(exc)
        wait = _backoff(self.settings, item.attempts)
        with self.engine.begin() as conn:
            queue.failed(
                conn, item.id, attempt, reason=reason, next_try=self.clock.now() + wait
            )
        self.report.failed += 1
        self.report.last_error = reason[:300]
        log.warning(
            "note_write_failed",
            reason=reason[:300],
            attempts=item.attempts + 1,
            retry_in_min=int(wait.total_seconds() // 60),
        )


def run(
    config: Config, code: str, engine: Engine, clock: Clock, *, now: bool = False
) -> WritebackReport:
    report = WritebackReport(company=code)
    settings = config.companies[code].writeback
    if settings is None:
        report.status = "disabled"
        return report
    log = logs.get()
    started = time.perf_counter()
    with structlog.contextvars.bound_contextvars(company=code, job="writeback"):
        writer = build_writer(config, code, clock)
        job = _Job(config, code, engine, clock, settings, writer, report)
        report.writer = writer.name
        at = clock.now()
        with engine.begin() as conn:
            company_id = company_ids(conn).get(code)
            if company_id is None:
                log.warning("writeback_refused", reason="company never synced")
                report.status = "not_synced"
                return report
            report.released = queue.release_lapsed(conn, company_id, at)
            report.queued = job.enqueue(conn, company_id, at)
            todo = queue.due(conn, company_id, at, waiting_too=now)
        try:
            job.write_all(todo)
        finally:
            writer.close()
        with engine.connect() as conn:
            report.pending, report.next_try = queue.pending(conn, company_id)
        _summary(report, time.perf_counter() - started)
    return report


def _summary(report: WritebackReport, seconds: float) -> None:
    """writeback_pending when notes wait after a failure, and the job's line."""
    log = logs.get()
    if report.failed:
        report.status = "failing"
        log.error(
            "writeback_pending",
            writer=report.writer,
            pending=report.pending,
            next_try=report.next_try.isoformat() if report.next_try else None,
            reason=report.last_error,
        )
    log.info(
        "writeback_finished",
        writer=report.writer,
        queued=report.queued,
        written=report.written,
        found=report.found,
        failed=report.failed,
        released=report.released,
        pending=report.pending,
        duration_s=round(seconds, 3),
    )


def _level(config: Config, scenario: str, step: str) -> int:
    """The step's rank in its scenario, from 1 (0 when the scenario is gone)."""
    found = config.dunning.scenarios.get(scenario) if config.dunning else None
    steps = [s.id for s in found.steps] if found else []
    return steps.index(step) + 1 if step in steps else 0


def _note(item: queue.Queued, code: str, tz: ZoneInfo, writer: NoteWriter) -> Note:
    sent = item.sent
    return Note(
        key=sent.key,
        marker=item.marker,
        kind=item.kind,
        company=code,
        customer=sent.customer,
        on=sent.day(tz),
        text=fit(item.text, writer.length, writer.encoding),
        step=sent.step,
        level=_level_from_text(item.text),
        channel=sent.channel,
        outcome=sent.outcome,
        total=sent.total,
        interest=sent.interest,
        indemnity=sent.indemnity,
        invoices=item.invoices,
    )


def _level_from_text(text: str) -> int:
    """The level as the queued text states it (the config may have changed since)."""
    _, _, rest = text.partition(" relance ")
    head = rest.split(" ", 1)[0]
    return int(head) if head.isdigit() else 0


def _backoff(settings: WritebackConfig, attempts: int) -> dt.timedelta:
    minutes = settings.retry_minutes * 2 ** min(attempts, 16)
    return min(
        dt.timedelta(minutes=minutes), dt.timedelta(hours=settings.max_retry_hours)
    )
