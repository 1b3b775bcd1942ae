"""The report command: ledger reports and the receivables KPIs.

``sageconnect report NAME -c FILE [--company C] [--date D] [--format F]``:

- ledger: ``balances``, ``open-items``, ``bank``, ``rejects``;
- KPIs (kpi/): ``kpi`` (the day's ratios), ``aged-balance``, ``dso`` (the
  daily snapshots and today), ``forecast`` (13 weeks), ``priority`` (whom to
  call today), ``dunning-activity`` (per step and channel, what was paid after).

``--format html`` gives the whole self-contained HTML report for the KPI names,
and an HTML table for the ledger ones; ``--output FILE`` writes there instead
of standard output.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine

from sageconnect import logs
from sageconnect.clock import Clock, today
from sageconnect.config import Config
from sageconnect.report import Row, as_rows, render

if TYPE_CHECKING:
    from sageconnect.kpi.dashboard import Dashboard

# The KPI code (and the store's report queries) load only for the report
# command, in the functions that use them: not for a sync.

EX_OK, EX_DATAERR, EX_SOFTWARE = 0, 65, 70
Command = Callable[[argparse.Namespace, Config, Clock], int]
Factory = Callable[[str, str, Command], argparse.ArgumentParser]
LEDGER = ("balances", "open-items", "bank", "rejects")
KPI = ("kpi", "aged-balance", "dso", "forecast", "priority", "dunning-activity")


def register(command: Factory) -> None:
    """Add ``report`` to the parser, through the CLI's own factory."""
    report = command("report", "print a report: ledger figures or KPIs", _report)
    report.add_argument("name", choices=[*LEDGER, *KPI])
    report.add_argument("--company", help="only this company (default: all)")
    report.add_argument("--customer", help="only this customer code")
    report.add_argument("--date", type=dt.date.fromisoformat, help="as of YYYY-MM-DD")
    report.add_argument(
        "--format", choices=["table", "csv", "json", "html"], default="table"
    )
    report.add_argument("--output", help="write to this file instead of stdout")
    report.add_argument(
        "--all",
        action="store_true",
        help="rejects: also resolved ones; bank: also matched and booked lines",
    )


def _open(config: Config) -> Engine:
    from sageconnect.cli import _open as open_store  # noqa: PLC0415 - avoid a cycle

    return open_store(config)


def _companies(config: Config, only: str | None) -> list[str]:
    from sageconnect.cli import _companies as pick  # noqa: PLC0415 - avoid a cycle

    return pick(config, only)


def _report(args: argparse.Namespace, config: Config, clock: Clock) -> int:
    from sageconnect.store.queries import company_ids  # noqa: PLC0415

    engine = _open(config)
    sections: list[tuple[str, list[Row]]] = []
    pages: list[str] = []
    with engine.connect() as conn:
        ids = company_ids(conn)
        for code in _companies(config, args.company):
            if code not in ids:
                logs.get().warning("company_not_synced", company=code)
                continue
            as_of = args.date or today(clock, ZoneInfo(config.companies[code].timezone))
            if args.name in LEDGER:
                rows = _ledger_rows(
                    args, config, conn, code, company_id=ids[code], as_of=as_of
                )
            else:
                from sageconnect.kpi.refresh import (  # noqa: PLC0415
                    board_for,
                    render_html,
                )

                board = board_for(conn, config, code, ids[code], as_of)
                if args.format == "html":
                    pages.append(
                        render_html(
                            conn, config, code, ids[code], board=board, now=clock.now()
                        )
                    )
                    continue
                rows = _kpi_rows(args.name, conn, config, ids[code], board)
            sections.append((code, [{"company": code, **r} for r in rows]))
    _write(args, _text(args, config, sections, pages), config.reports.html_mode)
    return EX_OK


def _text(
    args: argparse.Namespace,
    config: Config,
    sections: list[tuple[str, list[Row]]],
    pages: list[str],
) -> str:
    if args.format == "html":
        from sageconnect.kpi.html import one_document  # noqa: PLC0415

        return one_document(pages) if pages else _html_table(sections, config)
    if args.format != "table":
        return render([r for _, rows in sections for r in rows], args.format)
    out = []
    for code, rows in sections:
        out.append(f"# {code}: {config.companies[code].name}\n")
        out.append(
            render(
                [{k: v for k, v in r.items() if k != "company"} for r in rows], "table"
            )
        )
    return "\n".join(out)


def _write(args: argparse.Namespace, text: str, config_mode: str) -> None:
    """To --output (as readable as the daemon's report file), else stdout."""
    if args.output:
        from sageconnect.dunning.channels.folder import (  # noqa: PLC0415
            write_atomically,
        )

        target = Path(args.output)
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(target, text.encode(), mode=int(config_mode, 8))
    else:
        sys.stdout.write(text)


def _ledger_rows(
    args: argparse.Namespace,
    config: Config,
    conn: Connection,
    code: str,
    *,
    company_id: int,
    as_of: dt.date,
) -> list[Row]:
    from sageconnect.store.bank import bank_report  # noqa: PLC0415
    from sageconnect.store.open_items import PENDING_DAYS, open_items  # noqa: PLC0415
    from sageconnect.store.queries import balances, open_rejects  # noqa: PLC0415

    company = config.companies[code]
    if args.name == "rejects":
        return as_rows(open_rejects(conn, company_id, include_resolved=args.all))
    if args.name == "bank":
        return as_rows(bank_report(conn, company_id, everything=args.all))
    if args.name == "open-items":
        pending = company.bank.pending_days if company.bank else PENDING_DAYS
        items = open_items(
            conn, company_id, as_of, customer=args.customer, pending_days=pending
        )
        return as_rows(items)
    return as_rows(balances(conn, company_id, as_of, args.customer))


def _kpi_rows(
    name: str, conn: Connection, config: Config, company_id: int, board: Dashboard
) -> list[Row]:
    if name == "aged-balance":
        return _aged_rows(board)
    if name == "dso":
        return _dso_rows(conn, config, company_id, board)
    if name == "forecast":
        f = board.forecast
        extra = [("later", f.later), ("doubtful", f.doubtful), ("disputed", f.disputed)]
        return [
            {
                "week": str(w.number),
                "start": w.start,
                "end": w.end,
                "habit": w.habit,
                "promised": w.promised,
                "total": w.total,
                "cumulative": w.cumulative,
            }
            for w in f.weeks
        ] + [
            {
                "week": label,
                "start": None,
                "end": None,
                "habit": None,
                "promised": None,
                "total": amount,
                "cumulative": None,
            }
            for label, amount in extra
        ]
    if name == "priority":
        return as_rows(board.priority)
    if name == "dunning-activity":
        return as_rows(board.activity)
    return [_kpi_row(board)]


def _kpi_row(board: Dashboard) -> Row:
    r, t = board.ratios, board.aged_total
    return {
        "as_of": board.as_of,
        "period_start": r.period_start,
        "days": r.days,
        "sales": r.sales,
        "receivable": t.total,
        "not_due": t.not_due,
        "overdue": t.overdue,
        "overdue_share": r.overdue_share,
        "dso_countback": r.dso_countback,
        "dso_simple": r.dso_simple,
        "best_dso": r.best_dso,
        "add": r.add,
        "cei": r.cei,
        "recovery_rate": r.recovery_rate,
        "forecast": board.forecast.weeks[-1].cumulative,
    }


def _aged_rows(board: Dashboard) -> list[Row]:
    from sageconnect.kpi.aging import bucket_labels  # noqa: PLC0415

    labels = bucket_labels(board.bounds)
    return [
        {
            "customer": r.customer or "TOTAL",
            "name": r.name,
            "not_due": r.not_due,
            **dict(zip(labels, r.buckets, strict=True)),
            "unapplied": r.unapplied,
            "total": r.total,
        }
        for r in [*board.aged, board.aged_total]
    ]


def _dso_rows(
    conn: Connection, config: Config, company_id: int, board: Dashboard
) -> list[Row]:
    from sageconnect.kpi import history  # noqa: PLC0415

    since = board.as_of - dt.timedelta(days=config.reports.history_days)
    names = ("dso_countback", "dso_simple", "best_dso", "add", "cei")
    rows: list[Row] = [
        {"day": s.day, **{n: s.ratio(n) for n in names}}
        for s in history.trend(conn, company_id, since, board.as_of)
        if s.day < board.as_of
    ]
    return [*rows, {"day": board.as_of, **{n: getattr(board.ratios, n) for n in names}}]


def _html_table(sections: list[tuple[str, list[Row]]], config: Config) -> str:
    """A plain HTML page with one table per company (the ledger reports)."""
    parts = ['<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">']
    parts.append("<title>sageconnect</title></head><body>")
    for code, rows in sections:
        parts.append(f"<h1>{escape(config.companies[code].name)}</h1>")
        if not rows:
            parts.append("<p>(rien à afficher)</p>")
            continue
        parts.append("<table><tr>")
        parts += [f"<th>{escape(str(k))}</th>" for k in rows[0]]
        parts.append("</tr>")
        for row in rows:
            cells = "".join(f"<td>{escape(_cell(v))}</td>" for v in row.values())
            parts.append(f"<tr>{cells}</tr>")
        parts.append("</table>")
    parts.append("</body></html>\n")
    return "".join(parts)


def _cell(value: Any) -> str:
    return "" if value is None else str(value)
