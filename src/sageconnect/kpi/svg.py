"""Inline SVG charts for the HTML report: bars (stacked) and lines, no script.

Pixel geometry is computed in Decimal like everything else, and every label is
escaped. Each chart is an ``<svg id=...>`` with a ``<title>``, so a reader (or
a test) can find it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from html import escape

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 70, 16, 28, 46
ZERO = Decimal(0)
MILLION, THOUSAND = 1_000_000, 1_000


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    values: Sequence[Decimal | None]
    color: str


def _px(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.1"), ROUND_HALF_UP))


def _nice_top(value: Decimal) -> Decimal:
    """A round ceiling for the axis: 1, 2, 2.5 or 5 times a power of ten."""
    if value <= 0:
        return Decimal(1)
    power = Decimal(10) ** (value.adjusted())
    for step in (1, 2, Decimal("2.5"), 5, 10):
        if value <= power * step:
            return power * step
    return power * 10


def _short(value: Decimal) -> str:
    """An axis value, French and exact to the hundredth: ``12,5 k``, ``1,25 M``."""
    for size, unit in ((MILLION, " M"), (THOUSAND, " k")):
        if abs(value) >= size:
            return _french(value / size) + unit
    return _french(value)


def _french(value: Decimal) -> str:
    text = f"{value.quantize(Decimal('0.01'), ROUND_HALF_UP):f}"
    return text.rstrip("0").rstrip(".").replace(".", ",") if "." in text else text


def _frame(chart_id: str, title: str, top: Decimal, body: list[str]) -> str:
    plot_h = Decimal(HEIGHT - TOP - BOTTOM)
    grid = []
    for n in range(5):
        value = top * n / 4
        y = TOP + plot_h - plot_h * n / 4
        grid.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_px(y)}" y2="{_px(y)}"'
            ' stroke="#ddd"/>'
            f'<text x="{LEFT - 6}" y="{_px(y + 4)}" text-anchor="end"'
            f' font-size="11" fill="#555">{escape(_short(value))}</text>'
        )
    return (
        f'<svg id="{escape(chart_id)}" class="chart" role="img" width="{WIDTH}"'
        f' height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}"'
        f' xmlns="http://www.w3.org/2000/svg" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>{''.join(grid)}{''.join(body)}</svg>"
    )


def _legend(series: Sequence[Series]) -> list[str]:
    out, x = [], LEFT
    for s in series:
        out.append(
            f'<rect x="{x}" y="8" width="10" height="10" fill="{s.color}"/>'
            f'<text x="{x + 14}" y="17" font-size="11">{escape(s.name)}</text>'
        )
        x += 24 + 7 * len(s.name)
    return out


def bars(
    chart_id: str,
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    colors: Sequence[str] = (),
) -> str:
    """Stacked bars, one per label; negative values are drawn as zero.

    ``colors``, one per label, colours a single series bar by bar.
    """
    totals = [
        sum((max(s.values[n] or ZERO, ZERO) for s in series), ZERO)
        for n in range(len(labels))
    ]
    top = _nice_top(max(totals, default=ZERO))
    plot_w = Decimal(WIDTH - LEFT - RIGHT)
    plot_h = Decimal(HEIGHT - TOP - BOTTOM)
    slot = plot_w / max(len(labels), 1)
    body = [] if colors else _legend(series)
    for n, label in enumerate(labels):
        x = LEFT + slot * n + slot / 8
        base = Decimal(TOP) + plot_h
        for s in series:
            value = max(s.values[n] or ZERO, ZERO)
            h = plot_h * value / top
            base -= h
            fill = colors[n] if colors else s.color
            body.append(
                f'<rect class="bar" x="{_px(x)}" y="{_px(base)}"'
                f' width="{_px(slot * 3 / 4)}" height="{_px(h)}" fill="{fill}">'
                f"<title>{escape(label)} · {escape(s.name)} : {value:.2f}</title>"
                "</rect>"
            )
        body.append(
            f'<text x="{_px(x + slot * 3 / 8)}" y="{HEIGHT - BOTTOM + 16}"'
            f' text-anchor="middle" font-size="11">{escape(label)}</text>'
        )
    return _frame(chart_id, title, top, body)


def lines(
    chart_id: str, title: str, labels: Sequence[str], series: Sequence[Series]
) -> str:
    """One polyline per series over the labels (None: a gap), dots on the points."""
    values = [v for s in series for v in s.values if v is not None]
    top = _nice_top(max(values, default=ZERO))
    plot_w = Decimal(WIDTH - LEFT - RIGHT)
    plot_h = Decimal(HEIGHT - TOP - BOTTOM)
    step = plot_w / max(len(labels) - 1, 1)
    body = _legend(series)
    for s in series:
        points = [
            (LEFT + step * n, TOP + plot_h - plot_h * max(v, ZERO) / top)
            for n, v in enumerate(s.values)
            if v is not None
        ]
        if len(points) > 1:
            path = " ".join(f"{_px(x)},{_px(y)}" for x, y in points)
            body.append(
                f'<polyline class="line" points="{path}" fill="none"'
                f' stroke="{s.color}" stroke-width="2"/>'
            )
        body += [
            f'<circle class="point" cx="{_px(x)}" cy="{_px(y)}" r="3"'
            f' fill="{s.color}"/>'
            for x, y in points
        ]
    every = max(len(labels) // 8, 1)
    body += [
        f'<text x="{_px(LEFT + step * n)}" y="{HEIGHT - BOTTOM + 16}"'
        f' text-anchor="middle" font-size="11">{escape(label)}</text>'
        for n, label in enumerate(labels)
        if n % every == 0 or n == len(labels) - 1
    ]
    return _frame(chart_id, title, top, body)
