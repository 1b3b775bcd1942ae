"""Jobs: plain functions of (config, store, clock) that the CLI and daemon call."""

from __future__ import annotations

import glob
import time
from dataclasses import replace
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import TYPE_CHECKING, cast

import structlog
from sqlalchemy import Engine, select

from sageconnect import logs
from sageconnect.clock import Clock
from sageconnect.config import Config, FileSource
from sageconnect.errors import (
    ConfigError,
    MappingError,
    Problem,
    SourceUnavailable,
    Stopped,
)
from sageconnect.mapping import registry
from sageconnect.mapping.documents import LedgerSettings
from sageconnect.mapping.protocol import Mapper
from sageconnect.mapping.spec import MappingSpec
from sageconnect.model.records import Reject
from sageconnect.store.rejects import record_rejects
from sageconnect.store.sync import SyncReport, ensure_company, new_run_uid, sync
from sageconnect.store.tables import sync_runs

if TYPE_CHECKING:
    from sageconnect.bank.lines import BankLine
    from sageconnect.store.bank import BankCounts

# Each mapper (ledger file, export files, ODBC with its reader, a plug-in) and
# the bank statements load when a company uses them, not with the jobs.


def mapping_folders(config: Config) -> list[Path]:
    configured = (
        config.resolve_path(config.mappings_dir) if config.mappings_dir else None
    )
    return registry.search_path(config.base_dir, configured)


def source_files(config: Config, source: FileSource, spec: MappingSpec) -> list[Path]:
    """The files a company's source path names: a file, a folder, or a glob."""
    path = config.resolve_path(source.path)
    if path.is_dir():
        files = sorted(path.glob(spec.file.pattern))
    elif glob.has_magic(str(path)):
        files = sorted(Path(path.anchor).glob(str(path.relative_to(path.anchor))))
    else:
        files = [path] if path.exists() else []
    files = [f for f in files if f.is_file()]
    if not files:
        raise SourceUnavailable(str(path), "no file matches the source path")
    return files


def build_mapper(config: Config, code: str, clock: Clock) -> Mapper:
    """The mapper a company's source names, checked against the mapping's reader."""
    company = config.companies[code]
    source = company.source
    found = registry.resolve(
        source.mapping, mapping_folders(config), key=f"companies.{code}.source.mapping"
    )
    terms = company.payment_terms
    if isinstance(found, EntryPoint):
        return _plugin(found, code, config, clock)
    spec = found
    wanted = "file" if isinstance(source, FileSource) else "odbc"
    if spec.mapping.reader != wanted:
        raise ConfigError(
            [
                Problem(
                    f"companies.{code}.source.mapping",
                    repr(source.mapping),
                    f"a mapping for a {wanted} source, not {spec.mapping.reader}",
                )
            ]
        )
    if isinstance(source, FileSource):
        settings = LedgerSettings(
            currency=company.currency,
            default_terms=terms.default,
            terms_by_customer=dict(terms.by_customer),
            receivable_accounts=source.receivable_accounts,
            encoding=source.encoding,
        )
        if spec.mapping.format == "entries":
            from sageconnect.mapping.file_entries import (  # noqa: PLC0415
                FileEntriesMapper,
            )

            folder = config.resolve_path(source.path)
            if not folder.is_dir():
                raise SourceUnavailable(str(folder), "not a folder of export files")
            return FileEntriesMapper(spec, folder, settings)
        from sageconnect.mapping.ledger import LedgerMapper  # noqa: PLC0415

        return LedgerMapper(spec, source_files(config, source, spec), settings)
    from sageconnect.mapping.entries import EntriesMapper  # noqa: PLC0415 - ODBC
    from sageconnect.readers.odbc import OdbcSettings  # noqa: PLC0415

    settings = LedgerSettings(
        currency=company.currency,
        default_terms=terms.default,
        terms_by_customer=dict(terms.by_customer),
    )
    odbc = OdbcSettings(
        connection_string=source.odbc_string(),
        password=source.password.get_secret_value() if source.password else None,
        login_timeout=source.login_timeout,
        query_timeout=source.query_timeout,
        encoding=source.encoding or spec.odbc.encoding,
        fetch_size=source.fetch_size,
        name=f"{code}:{source.mapping}",
    )
    return EntriesMapper(
        spec,
        odbc,
        settings,
        clock.now,
        lookback_minutes=source.lookback_minutes,
        full_every_hours=source.full_every_hours,
    )


def _plugin(entry: EntryPoint, code: str, config: Config, clock: Clock) -> Mapper:
    """Build a code mapper from its entry point; a broken plug-in is a config error."""
    from sageconnect.plugin import PluginContext  # noqa: PLC0415

    company = config.companies[code]
    key = f"companies.{code}.source.mapping"
    context = PluginContext(
        company=code,
        source=company.source,
        settings=LedgerSettings(
            currency=company.currency,
            default_terms=company.payment_terms.default,
            terms_by_customer=dict(company.payment_terms.by_customer),
        ),
        now=clock.now,
        base_dir=config.base_dir,
    )
    try:
        mapper = entry.load()(context)
    except Exception as exc:
        raise MappingError(
            [Problem(key, repr(entry.name), f"a plug-in that loads ({exc!r})")]
        ) from exc
    if not callable(getattr(mapper, "read", None)) or not hasattr(mapper, "name"):
        raise MappingError(
            [
                Problem(
                    key, repr(entry.name), "a factory returning a Mapper (name, read)"
                )
            ]
        )
    return cast("Mapper", mapper)


def _read_bank(
    config: Config, code: str, engine: Engine, company_id: int, run_uid: str
) -> BankCounts:
    """Read the company's statement folder; log bank_read and each line set aside."""
    from sageconnect.bank.folder import read_statements  # noqa: PLC0415
    from sageconnect.store.bank import store_lines  # noqa: PLC0415

    bank = config.companies[code].bank
    assert bank is not None  # noqa: S101 - the caller checked
    folder = config.resolve_path(bank.path)
    if not folder.is_dir():
        raise SourceUnavailable(str(folder), "bank statement folder not found")
    started = time.perf_counter()
    lines: list[BankLine] = []
    rejected: list[Reject] = []
    files = set()
    for item in read_statements(folder, bank.pattern):
        if isinstance(item, Reject):
            rejected.append(replace(item, where=f"bank/{item.where}"))
        else:
            lines.append(item)
            files.add(item.source)
    with engine.begin() as conn:
        run = conn.execute(
            select(sync_runs.c.id).where(sync_runs.c.run_uid == run_uid)
        ).scalar_one()
        counts = store_lines(conn, company_id, run, lines)
        new_rejects = record_rejects(
            conn, company_id, run, rejected, complete=True, scope="bank/"
        )
    logs.rejected(rejected)
    logs.get().info(
        "bank_read",
        path=str(folder),
        files=len(files),
        lines=counts.read,
        new=counts.new,
        matched=counts.matched,
        unmatched=counts.unmatched,
        booked=counts.booked,
        rejected=len(rejected),
        new_rejects=new_rejects,
        duration_s=round(time.perf_counter() - started, 3),
    )
    return counts


def sync_company(
    config: Config, code: str, engine: Engine, clock: Clock, *, full: bool = False
) -> SyncReport:
    """Sync one company, logging sync_started, row_rejected and sync_finished."""
    company = config.companies[code]
    report = SyncReport(
        run_uid=new_run_uid(), company=code, source=company.source.mapping
    )
    log = logs.get()
    with structlog.contextvars.bound_contextvars(
        company=code, source=company.source.mapping, run_id=report.run_uid
    ):
        log.info("sync_started", full=full)
        try:
            mapper = build_mapper(config, code, clock)
            company_id = ensure_company(engine, code, company.name, company.currency)
            sync(
                engine,
                company_id,
                report,
                mapper,
                clock.now,
                full=full,
                methods=company.matching.methods,
            )
            if company.bank is not None:
                _read_bank(config, code, engine, company_id, report.run_uid)
        except SourceUnavailable as exc:
            log.error(  # noqa: TRY400 - an unreadable source needs no traceback
                "sync_failed",
                error_class="source_unavailable",
                path=exc.source,
                reason=exc.reason,
                transient=exc.transient,
                sqlstate=exc.sqlstate or None,
                read_before_failure=report.read,
            )
            raise
        except ConfigError as exc:
            log.error(  # noqa: TRY400 - a config problem needs no traceback
                "config_invalid", problems=len(exc.problems), first=str(exc.problems[0])
            )
            raise
        except Stopped:
            log.warning("sync_interrupted", read_before_stop=report.read)
            raise
        except Exception as exc:
            log.exception("sync_failed", error_class=type(exc).__name__)
            raise
        logs.rejected(report.rejects)
        log.info(
            "sync_finished",
            status=report.status,
            read=report.read,
            inserted=report.inserted,
            updated=report.updated,
            closed=report.closed,
            rejected=report.rejected,
            new_rejects=report.new_rejects,
            rejects_not_logged=max(0, report.rejected - logs.REJECTS_LOGGED),
            allocations=report.allocations,
            matched=report.matched,
            opening_unmatched=getattr(mapper, "opening_unmatched", 0),
            full_read=report.full_read,
            source_unchanged=report.source_unchanged,
            duration_s=report.duration_s,
            **report.phase_seconds(),
        )
    return report
