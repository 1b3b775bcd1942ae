"""KPI history: one snapshot per company and day, so trends can be drawn.

``save`` writes the day's figures; a second refresh the same day replaces them
(the latest figures of the day win, and there is still one row). ``trend``
reads the snapshots back, oldest first.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from sageconnect.kpi.dashboard import Dashboard
from sageconnect.kpi.ratios import Ratios
from sageconnect.store.tables import kpi_snapshots

RATIO_FIELDS = (
    "dso_countback",
    "dso_simple",
    "best_dso",
    "add",
    "cei",
    "overdue_share",
    "recovery_rate",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Snapshot:
    day: dt.date
    receivable: Decimal
    overdue: Decimal
    figures: dict[str, Any]

    def ratio(self, name: str) -> Decimal | None:
        value = self.figures.get(name)
        return None if value is None else Decimal(str(value))


def figures(board: Dashboard) -> dict[str, Any]:
    """The day's KPIs as JSON-ready values (amounts and ratios as strings)."""
    r: Ratios = board.ratios
    t = board.aged_total
    return {
        **{name: _text(getattr(r, name)) for name in RATIO_FIELDS},
        "period_start": r.period_start.isoformat(),
        "sales": str(r.sales),
        "not_due": str(t.not_due),
        "buckets": [str(b) for b in t.buckets],
        "bounds": list(board.bounds),
        "unapplied": str(t.unapplied),
        "forecast_13w": str(board.forecast.weeks[-1].cumulative),
    }


def save(conn: Connection, company: int, board: Dashboard, now: dt.datetime) -> None:
    """Store (or replace) the snapshot of ``board.as_of``."""
    t = board.aged_total
    with conn.begin_nested():
        conn.execute(
            delete(kpi_snapshots).where(
                kpi_snapshots.c.company_id == company,
                kpi_snapshots.c.day == board.as_of,
            )
        )
        conn.execute(
            insert(kpi_snapshots).values(
                company_id=company,
                day=board.as_of,
                receivable=t.total,
                overdue=t.overdue,
                figures=json.dumps(figures(board), sort_keys=True),
                computed_at=now.astimezone(dt.UTC),
            )
        )


def trend(
    conn: Connection, company: int, since: dt.date, until: dt.date
) -> list[Snapshot]:
    """The snapshots from ``since`` to ``until``, oldest first."""
    rows = conn.execute(
        select(
            kpi_snapshots.c.day,
            kpi_snapshots.c.receivable,
            kpi_snapshots.c.overdue,
            kpi_snapshots.c.figures,
        )
        .where(
            kpi_snapshots.c.company_id == company,
            kpi_snapshots.c.day >= since,
            kpi_snapshots.c.day <= until,
        )
        .order_by(kpi_snapshots.c.day)
    )
    return [
        Snapshot(day=d, receivable=r, overdue=o, figures=json.loads(f))
        for d, r, o, f in rows
    ]


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)
