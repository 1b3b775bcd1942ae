"""Write-back commands: ``writeback`` writes the notes due now (``--list``
shows the queue instead).

Exit status: 0 done (or nothing to write), 75 notes stay queued after a failed
write (tried again later, never twice), 78 the configuration cannot write back.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable

from sqlalchemy import Engine, select

from sageconnect.clock import Clock
from sageconnect.config import Config
from sageconnect.errors import ConfigError, Problem
from sageconnect.report import Row, render
from sageconnect.writeback import writeback_company

EX_OK, EX_TEMPFAIL = 0, 75
Command = Callable[[argparse.Namespace, Config, Clock], int]
Factory = Callable[[str, str, Command], argparse.ArgumentParser]


def register(command: Factory) -> None:
    """Add the write-back command to the parser, through the CLI's own factory."""
    w = command(
        "writeback",
        "write each reminder sent into the accounting system as a note, once",
        _writeback,
    )
    w.add_argument("--company", help="only this company (default: all that write back)")
    w.add_argument("--list", action="store_true", help="show the queue, write nothing")
    w.add_argument(
        "--now",
        action="store_true",
        help="also the notes waiting out a retry delay (the target is back)",
    )
    w.add_argument("--state", help="list: only this state (pending, writing, written)")
    w.add_argument("--format", choices=["table", "csv", "json"], default="table")


def _open(config: Config) -> Engine:
    from sageconnect.cli import _open as open_store  # noqa: PLC0415 - avoid a cycle

    return open_store(config)


def _writeback(args: argparse.Namespace, config: Config, clock: Clock) -> int:
    if args.company is not None:
        if args.company not in config.companies:
            names = ", ".join(config.companies)
            raise ConfigError([Problem("--company", repr(args.company), names)])
        codes = [args.company]
    else:
        codes = [c for c, company in config.companies.items() if company.writeback]
    if not codes or any(config.companies[c].writeback is None for c in codes):
        raise ConfigError(
            [
                Problem(
                    f"companies.{args.company or '<code>'}.writeback",
                    "(missing)",
                    'a writeback table, e.g. writer = "odbc"',
                )
            ]
        )
    engine = _open(config)
    if args.list:
        sys.stdout.write(render(_queue(engine, codes, args.state), args.format))
        return EX_OK
    return run_all(config, clock, engine, codes, now=args.now)


def run_all(
    config: Config,
    clock: Clock,
    engine: Engine,
    codes: list[str],
    *,
    now: bool = False,
) -> int:
    """Write back for each company; 75 when notes stay queued after a failure."""
    status = EX_OK
    for code in codes:
        report = writeback_company(config, code, engine, clock, now=now)
        if report.status == "failing":
            status = EX_TEMPFAIL
    return status


def _queue(engine: Engine, codes: list[str], state: str | None) -> list[Row]:
    # the store's tables load only to list the queue (not for a sync)
    from sageconnect.store.queries import company_ids  # noqa: PLC0415
    from sageconnect.store.tables import note_queue, reminders  # noqa: PLC0415

    rows: list[Row] = []
    with engine.connect() as conn:
        ids = company_ids(conn)
        for code in codes:
            if code not in ids:
                continue
            query = (
                select(
                    note_queue.c.customer,
                    note_queue.c.kind,
                    note_queue.c.marker,
                    reminders.c.key,
                    note_queue.c.state,
                    note_queue.c.attempts,
                    note_queue.c.next_try,
                    note_queue.c.found,
                    note_queue.c.last_error,
                    note_queue.c.text,
                )
                .join(reminders, reminders.c.id == note_queue.c.reminder_id)
                .where(note_queue.c.company_id == ids[code])
                .order_by(note_queue.c.id)
            )
            if state:
                query = query.where(note_queue.c.state == state)
            rows += [
                {
                    "company": code,
                    **row._asdict(),
                    "next_try": _utc(row.next_try) if row.state != "written" else None,
                    "last_error": row.last_error or "",
                }
                for row in conn.execute(query)
            ]
    return rows


def _utc(value: dt.datetime) -> str:
    aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return aware.astimezone(dt.UTC).isoformat(timespec="seconds")
