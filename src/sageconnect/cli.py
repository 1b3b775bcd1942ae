"""The command line: check, sync, report."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import Engine, select

from sageconnect import __version__, logs
from sageconnect.clock import Clock, SystemClock, today
from sageconnect.config import Config, load
from sageconnect.errors import ConfigError, SourceUnavailable, StoreError
from sageconnect.jobs import build_mapper, sync_company
from sageconnect.report import render
from sageconnect.store.engine import open_store
from sageconnect.store.queries import balances
from sageconnect.store.tables import companies, rejects

EX_OK, EX_UNAVAILABLE, EX_SOFTWARE, EX_CONFIG = 0, 69, 70, 78


def main(argv: Sequence[str] | None = None, clock: Clock | None = None) -> int:
    args = _parser().parse_args(argv)
    clock = clock or SystemClock()
    try:
        config = load(Path(args.config))
    except ConfigError as exc:
        logs.configure()
        logs.get().error("config_invalid", file=args.config, problems=len(exc.problems))
        print(exc, file=sys.stderr)
        return EX_CONFIG
    logs.configure(config.logging.level, config.logging.format)
    try:
        return int(args.func(args, config, clock))
    except ConfigError as exc:
        logs.get().error("config_invalid", file=args.config, problems=len(exc.problems))
        print(exc, file=sys.stderr)
        return EX_CONFIG
    except SourceUnavailable:
        return EX_UNAVAILABLE
    except StoreError as exc:
        logs.get().error("store_unavailable", reason=str(exc))
        return EX_SOFTWARE


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sageconnect", description="Keeps a French SME's receivables under control."
    )
    parser.add_argument("--version", action="version", version=f"sageconnect {__version__}")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    def command(name: str, help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_)
        p.add_argument("-c", "--config", required=True, help="the TOML configuration file")
        return p

    check = command("check", "validate the config and every mapping it names")
    check.set_defaults(func=_check)

    sync = command("sync", "read each company's source and reconcile it into the store")
    sync.add_argument("--company", help="only this company (default: all)")
    sync.add_argument("--full", action="store_true", help="read the source even if unchanged")
    sync.set_defaults(func=_sync)

    report = command("report", "print a report")
    report.add_argument("name", choices=["balances", "rejects"])
    report.add_argument("--company", help="only this company (default: all)")
    report.add_argument("--customer", help="balances: only this customer code")
    report.add_argument("--date", type=dt.date.fromisoformat, help="as of (YYYY-MM-DD)")
    report.add_argument("--format", choices=["table", "csv", "json"], default="table")
    report.add_argument("--all", action="store_true", help="rejects: include resolved ones")
    report.set_defaults(func=_report)
    return parser


def _companies(config: Config, only: str | None) -> list[str]:
    if only is None:
        return list(config.companies)
    if only not in config.companies:
        from sageconnect.errors import Problem  # noqa: PLC0415

        raise ConfigError(
            [Problem("--company", repr(only), f"one of: {', '.join(config.companies)}")]
        )
    return [only]


def _open(config: Config) -> Engine:
    password = config.store.password.get_secret_value() if config.store.password else None
    return open_store(config.store_url(), password=password)


def _check(args: argparse.Namespace, config: Config, _clock: Clock) -> int:
    problems = []
    for code, company in config.companies.items():
        try:
            build_mapper(config, company)
        except ConfigError as exc:
            problems += [
                p.__class__(f"companies.{code}.source.{p.key}" if p.key == "mapping" else p.key,
                            p.value, p.expected, p.file)
                for p in exc.problems
            ]
        except SourceUnavailable as exc:
            print(f"warning: companies.{code}.source.path: {exc}", file=sys.stderr)
    if problems:
        raise ConfigError(problems)
    print(f"{args.config}: OK ({len(config.companies)} company(ies))")
    return EX_OK


def _sync(args: argparse.Namespace, config: Config, clock: Clock) -> int:
    codes = _companies(config, args.company)
    engine = _open(config)
    failed = 0
    for code in codes:
        try:
            sync_company(config, code, engine, clock, full=args.full)
        except SourceUnavailable:
            failed += 1
    return EX_UNAVAILABLE if failed else EX_OK


def _report(args: argparse.Namespace, config: Config, clock: Clock) -> int:
    codes = _companies(config, args.company)
    engine = _open(config)
    chunks = []
    with engine.connect() as conn:
        ids: dict[str, int] = {c: i for c, i in conn.execute(select(companies.c.code, companies.c.id))}
        for code in codes:
            if code not in ids:
                logs.get().warning("company_not_synced", company=code)
                continue
            tz = config.companies[code].timezone
            if args.name == "balances":
                from zoneinfo import ZoneInfo  # noqa: PLC0415

                as_of = args.date or today(clock, ZoneInfo(tz))
                rows = balances(conn, ids[code], as_of, args.customer)
            else:
                rows = _rejects(conn, ids[code], include_resolved=args.all)
            chunks.append((code, rows))
    if args.format == "table":
        for code, rows in chunks:
            print(f"# {code} — {config.companies[code].name}")
            print(render(rows, "table"))
    else:
        rows_all = [(code, r) for code, rows in chunks for r in rows]
        if args.format == "json":
            import json  # noqa: PLC0415

            merged = [
                {"company": code, **row}
                for code, rows in chunks
                for row in json.loads(render(rows, "json"))
            ]
            print(json.dumps(merged, ensure_ascii=False, indent=2))
        else:
            out = [render([r], "csv", extra={"company": c}) for c, r in rows_all]
            header = out[0].splitlines()[0] if out else ""
            body = [o.splitlines()[1] for o in out]
            print("\n".join([header, *body]) if out else "")
    return EX_OK


def _rejects(conn: object, company: int, *, include_resolved: bool) -> list[object]:
    from dataclasses import make_dataclass  # noqa: PLC0415

    from sqlalchemy import Connection  # noqa: PLC0415

    assert isinstance(conn, Connection)  # noqa: S101
    row_type = make_dataclass("Reject", ["file", "line", "field", "value", "reason", "resolved"])
    query = select(
        rejects.c.source, rejects.c.line, rejects.c.field, rejects.c.value,
        rejects.c.reason, rejects.c.resolved_run_id.is_not(None),
    ).where(rejects.c.company_id == company).order_by(rejects.c.source, rejects.c.line)
    if not include_resolved:
        query = query.where(rejects.c.resolved_run_id.is_(None))
    return [row_type(*r) for r in conn.execute(query)]
