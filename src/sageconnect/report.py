"""Render report rows as a table, CSV or JSON (amounts as strings, never floats)."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

Row = dict[str, Any]


def as_rows(records: Sequence[Any], **extra: str) -> list[Row]:
    """Dataclass records as dicts, ``extra`` columns (e.g. company) first."""
    return [{**extra, **dataclasses.asdict(r)} for r in records]


def render(rows: Sequence[Row], fmt: str) -> str:
    if fmt == "json":
        data = [{k: _json(v) for k, v in row.items()} for row in rows]
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        return _csv(rows)
    return _table(rows)


def _json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _text(value: Any) -> str:
    return "" if value is None else str(_json(value))


def _french(value: Any) -> str:
    """Amounts as a French reader writes them: 1 234,56."""
    if isinstance(value, Decimal):
        whole, _, frac = f"{abs(value):.2f}".partition(".")
        grouped = f"{int(whole):,}".replace(",", " ")
        return f"{'-' if value < 0 else ''}{grouped},{frac}"
    return _text(value)


def _csv(rows: Sequence[Row]) -> str:
    if not rows:
        return ""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(list(rows[0]))
    writer.writerows([[_text(v) for v in row.values()] for row in rows])
    return out.getvalue()


def _table(rows: Sequence[Row]) -> str:
    if not rows:
        return "(nothing to show)\n"
    names = list(rows[0])
    cells = [[_french(row[n]) for n in names] for row in rows]
    numeric = [isinstance(rows[0][n], Decimal) for n in names]
    widths = [max(len(n), *(len(c[i]) for c in cells)) for i, n in enumerate(names)]

    def line(values: list[str]) -> str:
        return "  ".join(
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(values, widths, numeric, strict=True)
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(names), rule, *(line(c) for c in cells)]) + "\n"
