"""Dunning commands: plan, send, pauses, the reminders ledger."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import sys
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from sageconnect import logs
from sageconnect.clock import Clock, today
from sageconnect.config import Config
from sageconnect.errors import ConfigError, Problem
from sageconnect.report import Row, as_rows, render

EX_OK, EX_USAGE, EX_DATAERR, EX_UNAVAILABLE, EX_TEMPFAIL = 0, 64, 65, 69, 75
EX_CONFIG = 78
Command = Callable[[argparse.Namespace, Config, Clock], int]
Factory = Callable[[str, str, Command], argparse.ArgumentParser]
# one command per kind of pause (dunning.pauses.KINDS, which a test keeps equal)
PAUSES = {
    "dispute": "disputed invoices: no reminder while open",
    "promise": "payment promises: no reminder until the promised day",
    "hold": "customers on hold: no reminder at all",
}


def register(command: Factory) -> None:
    """Add the dunning commands to the parser, through the CLI's own factory."""
    p = command("plan", "show the reminders due, and why other items get none", _plan)
    p.add_argument("--company", help="only this company (default: all)")
    p.add_argument("--date", type=dt.date.fromisoformat, help="plan as of YYYY-MM-DD")
    p.add_argument("--format", choices=["table", "csv", "json"], default="table")
    p.add_argument("--skipped", action="store_true", help="also list what is skipped")
    s = command("send", "plan and send the reminders due, each once", _send)
    s.add_argument("--company", help="only this company (default: all)")
    for kind, help_ in PAUSES.items():
        _pause_commands(command, kind, help_)
    rem = command("reminders", "the delivery ledger: list, or resolve one", _reminders)
    rem.add_argument("action", choices=["list", "resolve"])
    rem.add_argument("key", nargs="?", help="resolve: the reminder's key")
    rem.add_argument("--company", help="only this company (default: all)")
    rem.add_argument("--state", help="list: only this state (e.g. uncertain)")
    outcome = rem.add_mutually_exclusive_group()
    outcome.add_argument(
        "--sent", action="store_true", help="it did reach the customer"
    )
    outcome.add_argument(
        "--not-sent", action="store_true", help="it did not: send it next cycle"
    )
    rem.add_argument("--by", default=None, help="who decides (default: login name)")
    rem.add_argument("--format", choices=["table", "csv", "json"], default="table")


def _pause_commands(command: Factory, kind: str, help_: str) -> None:
    p = command(kind, help_, _pause)
    p.set_defaults(kind=kind)
    p.add_argument("action", choices=["add", "list", "resolve"])
    p.add_argument("id", nargs="?", type=int, help="resolve: the pause's id")
    p.add_argument("--company", help="the company (default: the only one)")
    p.add_argument("--customer", help="add: the customer code")
    p.add_argument("--invoice", help="add: the invoice number")
    p.add_argument("--reason", default="", help="add: why (kept as history)")
    p.add_argument("--until", type=dt.date.fromisoformat, help="add: YYYY-MM-DD")
    p.add_argument("--amount", type=_amount, help="promise: the amount promised")
    p.add_argument("--by", default=None, help="who (default: login name)")
    p.add_argument("--all", action="store_true", help="list: resolved ones too")
    p.add_argument("--format", choices=["table", "csv", "json"], default="table")


def _amount(text: str) -> Decimal:
    try:
        return Decimal(text.replace(",", ".").replace(" ", "")).quantize(
            Decimal("0.01")
        )
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not an amount: {text!r}") from None


def _open(config: Config) -> Engine:
    from sageconnect.cli import _open as open_store  # noqa: PLC0415 - avoid a cycle

    return open_store(config)


def _companies(config: Config, only: str | None) -> list[str]:
    from sageconnect.cli import _companies as pick  # noqa: PLC0415 - avoid a cycle

    return pick(config, only)


def _need_dunning(config: Config) -> None:
    if config.dunning is None:
        raise ConfigError(
            [Problem("dunning", "(missing)", "a [dunning] section with scenarios")]
        )


def _plan(args: argparse.Namespace, config: Config, clock: Clock) -> int:
    # the planner and the store load only for the dunning commands (not for a sync)
    from sageconnect.dunning.send import Planner  # noqa: PLC0415
    from sageconnect.store.queries import company_ids  # noqa: PLC0415

    _need_dunning(config)
    engine = _open(config)
    planned: list[Row] = []
    skipped: list[Row] = []
    with engine.connect() as conn:
        ids = company_ids(conn)
        for code in _companies(config, args.company):
            if code not in ids:
                logs.get().warning("company_not_synced", company=code)
                continue
            day = args.date or today(clock, ZoneInfo(config.companies[code].timezone))
            # a batch of customers at a time: memory for one batch and the rows
            for result in Planner(config, code, ids[code], day).batches(conn):
                planned += [
                    {
                        "company": code,
                        "customer": p.notice.customer,
                        "name": p.notice.customer_name,
                        "scenario": p.notice.scenario,
                        "step": p.notice.step,
                        "channel": p.notice.channel,
                        "items": len(p.notice.lines),
                        "open": p.notice.total_open,
                        "claimed": p.notice.total_claimed,
                        "key": p.notice.key,
                    }
                    for p in result.reminders
                ]
                skipped += [
                    {
                        "company": code,
                        "customer": s.customer,
                        "invoice": s.invoice,
                        "reason": s.reason,
                    }
                    for s in result.skipped
                ]
    if args.format == "json":
        data = {
            "planned": json.loads(render(planned, "json")),
            "skipped": json.loads(render(skipped, "json")),
        }
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return EX_OK
    sys.stdout.write(render(planned, args.format))
    if args.skipped:
        print()
        sys.stdout.write(render(skipped, args.format))
    return EX_OK


def _send(args: argparse.Namespace, config: Config, clock: Clock) -> int:
    _need_dunning(config)
    return _send_all(config, clock, _open(config), args.company)


def _send_all(config: Config, clock: Clock, engine: Engine, only: str | None) -> int:
    # channels (requests) and templates (jinja2, fpdf) load only to send
    from sageconnect.dunning.edges import (  # noqa: PLC0415
        build_channels,
        build_renderer,
    )
    from sageconnect.dunning.message import Notice, Rendered  # noqa: PLC0415
    from sageconnect.dunning.send import send_company  # noqa: PLC0415

    channels = build_channels(config, clock)
    renderer = build_renderer(config)

    def render_with(notice: Notice, address: tuple[str, ...]) -> Rendered:
        return renderer.render(notice, address=address)

    status = EX_OK
    for code in _companies(config, only):
        report = send_company(
            config, code, engine, clock, channels=channels, render=render_with
        )
        if report.status in ("stale", "not_synced"):
            status = max(status, EX_TEMPFAIL)
        if report.uncertain or report.failed:
            status = max(status, EX_DATAERR)
    return status


def _pause(args: argparse.Namespace, config: Config, clock: Clock) -> int:
    from sageconnect.dunning import pauses as pause_store  # noqa: PLC0415
    from sageconnect.ledger.matching import METHODS  # noqa: PLC0415
    from sageconnect.store.queries import company_ids  # noqa: PLC0415

    engine = _open(config)
    code = args.company or _only_company(config)
    by = args.by or getpass.getuser()
    known = config.companies.get(code)  # a dispute matches with its methods again
    methods = known.matching.methods if known else METHODS
    with engine.begin() as conn:
        company_id = company_ids(conn).get(code)
        if company_id is None:
            print(f"{code}: never synced", file=sys.stderr)
            return EX_USAGE
        if args.action == "add":
            try:
                new = pause_store.add(
                    conn,
                    company_id,
                    kind=args.kind,
                    customer=args.customer or "",
                    invoice=args.invoice,
                    reason=args.reason,
                    until=args.until,
                    amount=args.amount,
                    by=by,
                    now=clock.now(),
                    methods=methods,
                )
            except pause_store.PauseError as exc:
                print(f"{args.kind} add: {exc}", file=sys.stderr)
                return EX_USAGE
            logs.get().info(
                "pause_added",
                company=code,
                kind=args.kind,
                id=new,
                customer=args.customer,
                invoice=args.invoice,
                by=by,
            )
            print(f"{args.kind} {new} added")
            return EX_OK
        if args.action == "resolve":
            if args.id is None or not pause_store.resolve(
                conn,
                company_id,
                args.id,
                by=by,
                now=clock.now(),
                kind=args.kind,
                methods=methods,
            ):
                print(
                    f"{args.kind} {args.id}: no such open {args.kind}", file=sys.stderr
                )
                return EX_USAGE
            logs.get().info("pause_resolved", company=code, id=args.id, by=by)
            print(f"{args.kind} {args.id} resolved")
            return EX_OK
        rows = pause_store.listing(
            conn, company_id, kind=args.kind, everything=args.all
        )
    sys.stdout.write(render(as_rows(rows, company=code), args.format))
    return EX_OK


def _only_company(config: Config) -> str:
    if len(config.companies) == 1:
        return next(iter(config.companies))
    names = ", ".join(config.companies)
    raise ConfigError([Problem("--company", "(missing)", f"one of: {names}")])


def _reminders(args: argparse.Namespace, config: Config, clock: Clock) -> int:
    from sageconnect.dunning import ledger  # noqa: PLC0415
    from sageconnect.store.queries import company_ids  # noqa: PLC0415

    del clock
    engine = _open(config)
    if args.action == "resolve":
        if not args.key or not (args.sent or args.not_sent):
            print("reminders resolve KEY --sent | --not-sent", file=sys.stderr)
            return EX_USAGE
        by = args.by or getpass.getuser()
        with engine.begin() as conn:
            state = ledger.resolve(conn, args.key, sent=args.sent, by=by)
        if state is None:
            print(f"{args.key}: no uncertain or failed reminder", file=sys.stderr)
            return EX_USAGE
        logs.get().info("reminder_resolved", key=args.key, state=state, by=by)
        print(f"{args.key}: {state}")
        return EX_OK
    rows: list[Row] = []
    with engine.connect() as conn:
        ids = company_ids(conn)
        for code in _companies(config, args.company):
            if code in ids:
                states = (args.state,) if args.state else ()
                rows += as_rows(
                    ledger.rows(conn, ids[code], states=states), company=code
                )
    sys.stdout.write(render(rows, args.format))
    return EX_OK
