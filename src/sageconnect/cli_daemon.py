"""Daemon commands: run (the scheduled daemon, or --once) and status."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable

from sqlalchemy import Engine

from sageconnect import logs
from sageconnect.clock import Clock
from sageconnect.config import Config
from sageconnect.report import render

EX_OK = 0
Command = Callable[[argparse.Namespace, Config, Clock], int]
Factory = Callable[[str, str, Command], argparse.ArgumentParser]


def register(command: Factory) -> None:
    """Add the daemon commands to the parser, through the CLI's own factory."""
    r = command(
        "run",
        "the daemon: runs each company's jobs on their schedules until stopped"
        " (JSON lines on standard output); --once: every job once, then exit",
        _run,
    )
    r.add_argument("--once", action="store_true", help="every job once, then exit")
    s = command(
        "status", "each job's last and next run, and what needs a look", _status
    )
    s.add_argument("--company", help="only this company (default: all)")
    s.add_argument("--format", choices=["table", "csv", "json"], default="table")


def _open(config: Config) -> Engine:
    from sageconnect.cli import _open as open_store  # noqa: PLC0415 - avoid a cycle

    return open_store(config)


def _run(args: argparse.Namespace, config: Config, clock: Clock) -> int:
    # the scheduler and every job's code load only for the commands that run them
    from sageconnect.daemon import service  # noqa: PLC0415

    if args.once:
        return service.once(config, clock, _open(config))
    # The daemon's log is its output: JSON lines on standard output, for journald
    # or the Windows service wrapper's rotated files.
    logs.configure(config.logging.level, config.logging.format, stream=sys.stdout)
    return service.serve(config, clock, _open(config))


def _status(args: argparse.Namespace, config: Config, clock: Clock) -> int:
    from sageconnect.cli import _companies  # noqa: PLC0415 - avoid a cycle
    from sageconnect.daemon.status import figure_rows, job_rows  # noqa: PLC0415
    from sageconnect.daemon.table import Context  # noqa: PLC0415

    engine = _open(config)
    companies = _companies(config, args.company)
    ctx = Context(config, engine, clock)
    jobs = job_rows(ctx, companies)
    figures = figure_rows(ctx, companies)
    daemon = _daemon(config, engine)
    if args.format == "json":
        data = {
            "daemon": daemon,
            "jobs": json.loads(render(jobs, "json")),
            "companies": json.loads(render(figures, "json")),
        }
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return EX_OK
    if args.format == "csv":
        sys.stdout.write(render(jobs, "csv"))
        return EX_OK
    print(f"daemon: {daemon}\n")
    sys.stdout.write(render(jobs, "table"))
    print()
    sys.stdout.write(render(figures, "table"))
    return EX_OK


def _daemon(config: Config, engine: Engine) -> str:
    """Whether a daemon holds this store's lock (known for an SQLite store)."""
    from sageconnect.daemon.lock import FileLock, lock_for  # noqa: PLC0415

    lock = lock_for(config.store_url(), engine, list(config.companies))
    if not isinstance(lock, FileLock):
        return "shared store: see each job's runner (host:pid)"
    if lock.acquire():
        lock.release()
        return "not running"
    return f"running ({lock.owner()})"
