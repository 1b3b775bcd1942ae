"""The command line: check, doctor, sync, verify, report.

Exit status: 0 done (rows set aside do not fail a run), 65 verify found the
store and the source apart, 69 a source could not be read, 70 the store is
unusable or a job failed unexpectedly (the other companies still run), 78 the
configuration is invalid (EX_CONFIG).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import structlog
from sqlalchemy import Engine

from sageconnect import (
    __version__,
    cli_credit,
    cli_daemon,
    cli_dunning,
    cli_report,
    cli_service,
    cli_writeback,
    logs,
    writeback,
)
from sageconnect.clock import Clock, SystemClock
from sageconnect.config import Config, load
from sageconnect.errors import ConfigError, Problem, SourceUnavailable, StoreError
from sageconnect.mapping.diagnosis import Check
from sageconnect.report import Row, as_rows, render

# Each command imports what it runs, in its handler: ``sageconnect sync`` loads
# the mappers and the store, not the dunning, KPI or credit code (and neither
# does building the parser: the cli_* modules register with argparse only).
# tests/test_lazy_imports.py keeps it so.

EX_OK, EX_DATAERR, EX_UNAVAILABLE, EX_SOFTWARE, EX_CONFIG = 0, 65, 69, 70, 78
Command = Callable[[argparse.Namespace, Config, Clock], int]


def main(argv: Sequence[str] | None = None, clock: Clock | None = None) -> int:
    """Run one command; ``clock`` lets tests decide what "today" is."""
    args = _parser().parse_args(argv)
    logs.configure()
    try:
        config = load(Path(args.config))
        logs.configure(config.logging.level, config.logging.format)
        command: Command = args.func
        return command(args, config, clock or SystemClock())
    except ConfigError as exc:
        logs.get().error("config_invalid", file=args.config, problems=len(exc.problems))
        print(exc, file=sys.stderr)
        return EX_CONFIG
    except SourceUnavailable:
        return EX_UNAVAILABLE
    except StoreError as exc:
        logs.get().error("store_unavailable", reason=str(exc))
        return EX_SOFTWARE
    finally:  # close the store's connections: a command leaves none behind
        while _ENGINES:
            _ENGINES.pop().dispose()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sageconnect",
        description="Keeps a French SME's receivables under control.",
    )
    parser.add_argument(
        "--version", action="version", version=f"sageconnect {__version__}"
    )
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    def command(name: str, help_: str, func: Command) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_)
        p.add_argument(
            "-c", "--config", required=True, help="the TOML configuration file"
        )
        p.set_defaults(func=func)
        return p

    command("check", "validate the config and every mapping it names", _check)
    doctor = command(
        "doctor", "try each source: files readable, ODBC reachable", _doctor
    )
    doctor.add_argument("--company", help="only this company (default: all)")
    sync = command("sync", "read each company's source into the store", _sync)
    sync.add_argument("--company", help="only this company (default: all)")
    sync.add_argument(
        "--full", action="store_true", help="read sources even if unchanged"
    )
    verify = command(
        "verify",
        "compare each customer's balance in the store with the source",
        _verify,
    )
    verify.add_argument("--company", help="only this company (default: all)")
    verify.add_argument("--format", choices=["table", "csv", "json"], default="table")
    cli_dunning.register(command)
    cli_credit.register(command)
    cli_daemon.register(command)
    cli_service.register(command)
    cli_writeback.register(command)
    cli_report.register(command)
    return parser


def _companies(config: Config, only: str | None) -> list[str]:
    if only is None:
        return list(config.companies)
    if only not in config.companies:
        names = ", ".join(config.companies)
        raise ConfigError([Problem("--company", repr(only), f"one of: {names}")])
    return [only]


_ENGINES: list[Engine] = []


def _open(config: Config) -> Engine:
    from sageconnect.store.engine import open_store  # noqa: PLC0415 - alembic

    secret = config.store.password
    engine = open_store(
        config.store_url(), password=secret.get_secret_value() if secret else None
    )
    _ENGINES.append(engine)
    return engine


def _check(args: argparse.Namespace, config: Config, _clock: Clock) -> int:
    from sageconnect.jobs import build_mapper  # noqa: PLC0415 - the mappers

    problems: list[Problem] = []
    for code in config.companies:
        try:
            build_mapper(config, code, _clock)
        except ConfigError as exc:
            problems += [
                Problem(f"companies.{code}.source.mapping", p.value, p.expected, p.file)
                if p.key == "mapping"
                else p
                for p in exc.problems
            ]
        except SourceUnavailable as exc:
            print(f"warning: companies.{code}.source.path: {exc}", file=sys.stderr)
    if config.dunning is not None:
        try:
            from sageconnect.dunning.edges import (  # noqa: PLC0415 - heavy
                build_channels,
                build_renderer,
            )

            build_channels(config, _clock)
            build_renderer(config)
        except ConfigError as exc:
            problems += exc.problems
        except ValueError as exc:
            problems.append(Problem("dunning.channels", "(see below)", str(exc)))
    problems += writeback.problems(config, _clock)
    if problems:
        raise ConfigError(problems)
    print(f"{args.config}: OK, {len(config.companies)} company(ies)")
    return EX_OK


def _doctor(args: argparse.Namespace, config: Config, clock: Clock) -> int:
    """Run each mapper's self-checks; exit 69 if any fails."""
    from sageconnect.jobs import build_mapper  # noqa: PLC0415 - the mappers

    rows: list[Row] = []
    for code in _companies(config, args.company):
        try:
            mapper = build_mapper(config, code, clock)
            diagnose = getattr(mapper, "diagnose", None)
            none = [Check("source", ok=True, detail="no self-check")]
            checks = diagnose() if diagnose else none
        except SourceUnavailable as exc:
            checks = [Check("source", ok=False, detail=exc.reason)]
        checks += _bank_checks(config, code)
        mapping = config.companies[code].source.mapping
        rows += [
            {
                "company": code,
                "mapping": mapping,
                "check": c.check,
                "result": "ok" if c.ok else "FAIL",
                "detail": c.detail,
            }
            for c in checks
        ]
    print(render(rows, "table"), end="")
    return EX_OK if all(r["result"] == "ok" for r in rows) else EX_UNAVAILABLE


def _bank_checks(config: Config, code: str) -> list[Check]:
    """The statement folder, when the company has one: present, and what it holds."""
    from sageconnect.bank.folder import detect_format  # noqa: PLC0415

    bank = config.companies[code].bank
    if bank is None:
        return []
    folder = config.resolve_path(bank.path)
    if not folder.is_dir():
        return [Check("bank folder", ok=False, detail=f"{folder}: no such folder")]
    found = [detect_format(p) for p in sorted(folder.glob(bank.pattern)) if p.is_file()]
    known = sum(1 for f in found if f)
    detail = f"{known} statement file(s), {len(found) - known} other"
    return [Check("bank folder", ok=True, detail=detail)]


def _sync(args: argparse.Namespace, config: Config, clock: Clock) -> int:
    from sageconnect.jobs import sync_company  # noqa: PLC0415 - the mappers, the store

    engine = _open(config)
    status = EX_OK
    for code in _companies(config, args.company):
        try:
            sync_company(config, code, engine, clock, full=args.full)
        except SourceUnavailable:
            status = max(status, EX_UNAVAILABLE)
        except ConfigError as exc:
            print(exc, file=sys.stderr)
            status = max(status, EX_CONFIG)
        except Exception:  # noqa: BLE001 - logged by the job; the other companies go on
            status = max(status, EX_SOFTWARE)
    return status


def _verify(args: argparse.Namespace, config: Config, clock: Clock) -> int:
    """Per company: source totals against the store; exit 65 on any difference."""
    from sageconnect.jobs import build_mapper  # noqa: PLC0415 - the mappers, the store
    from sageconnect.store.queries import company_ids  # noqa: PLC0415
    from sageconnect.verify import compare, source_totals  # noqa: PLC0415

    engine = _open(config)
    status = EX_OK
    rows: list[Row] = []
    summary: list[Row] = []
    log = logs.get()
    for code in _companies(config, args.company):
        with structlog.contextvars.bound_contextvars(company=code):
            try:
                mapper = build_mapper(config, code, clock)
                totals = source_totals(mapper)
            except SourceUnavailable as exc:
                log.error("verify_failed", path=exc.source, reason=exc.reason)  # noqa: TRY400
                status = max(status, EX_UNAVAILABLE)
                continue
            with engine.connect() as conn:
                company_id = company_ids(conn).get(code)
                if company_id is None:
                    log.warning("company_not_synced")
                    continue
                found = compare(conn, company_id, totals)
            for d in found.differences:
                log.warning(
                    "verify_difference",
                    customer=d.customer,
                    source_balance=str(d.source),
                    store_balance=str(d.store),
                    open_items=str(d.open_items),
                    difference=str(d.difference),
                )
            log.info(
                "verify_finished",
                method=found.method,
                customers=found.customers,
                differences=len(found.differences),
                source_total=str(found.source_total),
                store_total=str(found.store_total),
                set_aside=str(found.set_aside),
            )
            summary.append(
                {
                    "company": code,
                    "method": found.method,
                    "customers": found.customers,
                    "source_total": found.source_total,
                    "store_total": found.store_total,
                    "set_aside": found.set_aside,
                    "differences": len(found.differences),
                }
            )
            rows += as_rows(found.differences, company=code)
            if found.differences:
                status = max(status, EX_DATAERR)
    if args.format == "table":
        print(render(summary, "table"))
        if rows:
            print(render(rows, "table"), end="")
    else:
        sys.stdout.write(render(rows, args.format))
    return status
