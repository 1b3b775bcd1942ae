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


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal | dt.date):
        return str(value) if not isinstance(value, dt.date) else value.isoformat()
    return str(value)


def _french(value: Any) -> str:
    """Amounts as a French reader writes them: 1 234,56."""
    if isinstance(value, Decimal):
        sign = "-" if value < 0 else ""
        whole, _, frac = f"{abs(value):.2f}".partition(".")
        groups = f"{int(whole):,}".replace(",", "\u202f")
        return f"{sign}{groups},{frac}"
    return _text(value)


def render(rows: Sequence[Any], fmt: str, *, extra: dict[str, str] | None = None) -> str:
    """Render dataclass rows; ``extra`` columns (e.g. company) come first."""
    dicts = [{**(extra or {}), **dataclasses.asdict(r)} for r in rows]
    if fmt == "json":
        return json.dumps([{k: _text(v) if v is not None else None for k, v in d.items()}
                           for d in dicts], ensure_ascii=False, indent=2) + "\n"
    if not dicts:
        return "" if fmt == "csv" else "(nothing to show)\n"
    names = list(dicts[0])
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(names)
        writer.writerows([[_text(d[n]) for n in names] for d in dicts])
        return out.getvalue()
    return _table(names, dicts)


def _table(names: list[str], dicts: list[dict[str, Any]]) -> str:
    cells = [[_french(d[n]) for n in names] for d in dicts]
    numeric = [isinstance(dicts[0][n], Decimal) for n in names]
    widths = [max(len(n), *(len(r[i]) for r in cells)) for i, n in enumerate(names)]

    def line(values: list[str]) -> str:
        return "  ".join(
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(values, widths, numeric, strict=True)
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(names), rule, *(line(r) for r in cells)]) + "\n"
