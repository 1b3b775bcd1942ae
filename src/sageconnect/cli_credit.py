"""Credit commands: ``alerts list`` (the alert states), ``alerts check`` (evaluate and
notify now), ``alerts notices`` (the notice ledger, e.g. the uncertain ones).

Exit status of ``alerts check``: 0 done, 65 a notice failed or is uncertain,
75 a company was never synced (try again after a sync).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from sageconnect.clock import Clock
from sageconnect.config import Config
from sageconnect.errors import ConfigError, Problem
from sageconnect.report import Row, render

if TYPE_CHECKING:
    from sageconnect.credit import ledger

EX_OK, EX_DATAERR, EX_TEMPFAIL = 0, 65, 75
Command = Callable[[argparse.Namespace, Config, Clock], int]
Factory = Callable[[str, str, Command], argparse.ArgumentParser]


def register(command: Factory) -> None:
    """Add the credit commands to the parser, through the CLI's own factory."""
    a = command(
        "alerts",
        "credit alerts: list the current ones, check and notify now, the notices",
        _alerts,
    )
    a.add_argument("action", choices=["list", "check", "notices"])
    a.add_argument("--company", help="only this company (default: all)")
    a.add_argument("--all", action="store_true", help="list: cleared alerts too")
    a.add_argument("--state", help="notices: only this state (e.g. uncertain)")
    a.add_argument("--format", choices=["table", "csv", "json"], default="table")


def _open(config: Config) -> Engine:
    from sageconnect.cli import _open as open_store  # noqa: PLC0415 - avoid a cycle

    return open_store(config)


def _companies(config: Config, only: str | None) -> list[str]:
    from sageconnect.cli import _companies as pick  # noqa: PLC0415 - avoid a cycle

    return pick(config, only)


def _need_credit(config: Config) -> None:
    if config.credit is None:
        raise ConfigError(
            [Problem("credit", "(missing)", "a [credit] section with [credit.notify]")]
        )


def check_all(
    config: Config, clock: Clock, engine: Engine, only: str | None = None
) -> int:
    """Check and notify every company (or ``only``); the exit status.

    ``run --once`` calls this after the syncs, for the companies that synced.
    """
    if config.credit is None:
        return EX_OK
    # the notice targets (SMTP, HTTP) load only to check alerts
    from sageconnect.credit.notify import build_targets  # noqa: PLC0415
    from sageconnect.credit.run import check_company  # noqa: PLC0415

    targets = build_targets(config, clock)
    status = EX_OK
    for code in _companies(config, only):
        report = check_company(config, code, engine, clock, targets=targets)
        if report.status == "not_synced":
            status = max(status, EX_TEMPFAIL)
        if report.failed or report.uncertain or report.lapsed:
            status = max(status, EX_DATAERR)
    return status


def _alerts(args: argparse.Namespace, config: Config, clock: Clock) -> int:
    # the alert ledger loads only for the alerts command (not for a sync)
    from sageconnect.credit import ledger  # noqa: PLC0415
    from sageconnect.store.queries import company_ids  # noqa: PLC0415

    _need_credit(config)
    engine = _open(config)
    if args.action == "check":
        return check_all(config, clock, engine, args.company)
    rows: list[Row] = []
    with engine.connect() as conn:
        ids = company_ids(conn)
        for code in _companies(config, args.company):
            if code not in ids:
                continue
            zone = ZoneInfo(config.companies[code].timezone)
            if args.action == "notices":
                states = (args.state,) if args.state else ()
                found = ledger.notices(conn, ids[code], states=states)
                rows += [_notice(code, n, zone) for n in found]
                continue
            alerts = (
                ledger.history(conn, ids[code])
                if args.all
                else ledger.active(conn, ids[code])
            )
            rows += [_alert(code, a, zone, cleared=args.all) for a in alerts]
    sys.stdout.write(render(rows, args.format))
    return EX_OK


def _alert(code: str, a: ledger.AlertRow, zone: ZoneInfo, *, cleared: bool) -> Row:
    row: dict[str, Any] = {
        "company": code,
        "kind": a.kind,
        "customer": a.customer,
        "subject": a.subject,
        "level": a.level,
        "since": a.raised_at.astimezone(zone).date(),
        "message": a.message,
    }
    if cleared:
        row["cleared"] = (
            a.cleared_at.astimezone(zone).date() if a.cleared_at is not None else None
        )
    return row


def _notice(code: str, n: ledger.NoticeRow, zone: ZoneInfo) -> Row:
    return {
        "company": code,
        "key": n.key,
        "target": n.target,
        "event": n.event,
        "kind": n.alert.kind,
        "customer": n.alert.customer,
        "subject": n.alert.subject,
        "level": n.level,
        "state": n.state,
        "attempts": n.attempts,
        "since": n.alert.raised_at.astimezone(zone).date(),
        "detail": n.detail,
    }
