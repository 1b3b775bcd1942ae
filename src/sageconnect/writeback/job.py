"""The write-back job: queue a note per reminder sent, write what is due.

A note is claimed, looked for in the target (read before write), written if
absent, then recorded; a failure puts it back in the queue for later, with a
doubling delay, and never reaches the sending of reminders.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, cast
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import Connection, Engine

from sageconnect import failpoints, logs
from sageconnect.clock import Clock, today
from sageconnect.config import Config, OdbcSource
from sageconnect.errors import ConfigError, MappingError, Problem, WriteBackError
from sageconnect.mapping import registry
from sageconnect.mapping.spec import MappingSpec
from sageconnect.model.notes import Note, NoteKind
from sageconnect.plugin import WriterContext
from sageconnect.readers.odbc import OdbcSettings
from sageconnect.store.queries import company_ids
from sageconnect.writeback import queue
from sageconnect.writeback.file_writer import FileNoteWriter
from sageconnect.writeback.odbc_writer import OdbcNoteWriter
from sageconnect.writeback.report import WritebackReport
from sageconnect.writeback.settings import WritebackConfig
from sageconnect.writeback.text import fit, marker, note_text

if TYPE_CHECKING:
    from sageconnect.mapping.protocol import NoteWriter

GROUP = "sageconnect.note_writers"
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
        kinds: tuple[NoteKind, ...] = ("note",)
        if self.settings.entries:
            kinds = ("note", "entries")
        added = 0
        for kind in kinds:
            for sent in queue.unqueued(conn, company_id, kind, self.settings.since):
                mark = marker(sent.key)
                text = note_text(
                    mark=mark,
                    on=sent.day(self.tz),
                    level=_level(self.config, sent.scenario, sent.step),
                    step=sent.step,
                    channel=sent.channel,
                    outcome="sent",
                    total=sent.total,
                    interest=sent.interest,
                    indemnity=sent.indemnity,
                    numbers=sent.numbers,
                )
                queue.enqueue(
                    conn,
                    company_id,
                    sent,
                    kind=kind,
                    marker=mark,
                    text=text,
                    target=self.writer.name,
                    now=now,
                )
                added += 1
        return added

    def write_all(self, todo: list[queue.Queued]) -> None:
        in_a_row = 0
        for done, item in enumerate(todo, start=1):
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
            reason = exc.reason if isinstance(exc, WriteBackError) else repr(exc)
            wait = _backoff(self.settings, item.attempts)
            with self.engine.begin() as conn:
                queue.failed(
                    conn,
                    item.id,
                    attempt,
                    reason=reason,
                    next_try=self.clock.now() + wait,
                )
            self.report.failed += 1
            self.report.last_error = reason[:300]
            log.warning(
                "note_write_failed",
                reason=reason[:300],
                attempts=item.attempts + 1,
                retry_in_min=int(wait.total_seconds() // 60),
            )
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
        if report.failed:
            report.status = "failing"
            log.error(
                "writeback_pending",
                writer=writer.name,
                pending=report.pending,
                next_try=report.next_try.isoformat() if report.next_try else None,
                reason=report.last_error,
            )
        log.info(
            "writeback_finished",
            writer=writer.name,
            queued=report.queued,
            written=report.written,
            found=report.found,
            failed=report.failed,
            released=report.released,
            pending=report.pending,
            duration_s=round(time.perf_counter() - started, 3),
        )
    return report


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
        outcome="sent",
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


def build_writer(config: Config, code: str, clock: Clock) -> NoteWriter:
    """The writer a company's writeback table names; ConfigError when it cannot be."""
    company = config.companies[code]
    settings = company.writeback
    assert settings is not None  # noqa: S101 - the caller checked
    key = f"companies.{code}.writeback"
    if settings.writer == "file":
        tz = ZoneInfo(company.timezone)
        return FileNoteWriter(
            config.resolve_path(settings.folder or "."),
            code,
            lambda: today(clock, tz),
            encoding=settings.encoding,
            length=settings.length,
        )
    if settings.writer == "odbc":
        return _odbc_writer(config, code, settings, key)
    return _plugin_writer(config, code, settings, clock, key)


def _odbc_writer(
    config: Config, code: str, settings: WritebackConfig, key: str
) -> OdbcNoteWriter:
    from sageconnect.jobs import mapping_folders  # noqa: PLC0415 - jobs is heavy

    source = config.companies[code].source
    found = registry.resolve(
        source.mapping, mapping_folders(config), key=f"companies.{code}.source.mapping"
    )
    spec = found if isinstance(found, MappingSpec) else None
    if spec is None or spec.notes is None:
        raise ConfigError(
            [
                Problem(
                    f"{key}.writer",
                    "'odbc'",
                    f"a mapping with a [notes] section ({source.mapping} has none):"
                    ' or writer = "file"',
                )
            ]
        )
    if settings.entries and spec.notes.entries is None:
        raise ConfigError(
            [
                Problem(
                    f"{key}.entries", "true", f"a [notes.entries] in {source.mapping}"
                )
            ]
        )
    own = settings.own_connection()
    if own is None and not isinstance(source, OdbcSource):
        raise ConfigError(
            [Problem(f"{key}.writer", "'odbc'", "an ODBC source, or a dsn here")]
        )
    secret = settings.password if own else getattr(source, "password", None)
    source_encoding = None if own else getattr(source, "encoding", None)
    odbc = OdbcSettings(
        connection_string=own or cast("OdbcSource", source).odbc_string(),
        password=secret.get_secret_value() if secret else None,
        login_timeout=getattr(source, "login_timeout", 15),
        query_timeout=min(getattr(source, "query_timeout", 60), 120),
        encoding=settings.connection_encoding or source_encoding or spec.odbc.encoding,
        name=f"{code}:notes",
        # the driver converts Unicode text to the column's code page, unless the
        # integrator names the code page the driver expects
        unicode_params=settings.connection_encoding is None,
    )
    return OdbcNoteWriter(spec.notes, odbc)


def _plugin_writer(
    config: Config, code: str, settings: WritebackConfig, clock: Clock, key: str
) -> NoteWriter:
    found = {ep.name: ep for ep in entry_points(group=GROUP)}
    entry = found.get(settings.writer)
    if entry is None:
        names = ", ".join(["odbc", "file", *sorted(found)])
        raise MappingError(
            [Problem(f"{key}.writer", repr(settings.writer), f"one of: {names}")]
        )
    context = WriterContext(
        company=code,
        options=dict(settings.options),
        now=clock.now,
        base_dir=config.base_dir,
    )
    try:
        writer = entry.load()(context)
    except Exception as exc:
        raise MappingError(
            [
                Problem(
                    f"{key}.writer", repr(entry.name), f"a plug-in that loads ({exc!r})"
                )
            ]
        ) from exc
    if not all(
        callable(getattr(writer, m, None)) for m in ("exists", "write", "close")
    ):
        raise MappingError(
            [
                Problem(
                    f"{key}.writer",
                    repr(entry.name),
                    "a NoteWriter (exists, write, close)",
                )
            ]
        )
    return cast("NoteWriter", writer)
