"""The charts' axis: each grid line labelled with its exact value."""

from __future__ import annotations

import re
from decimal import Decimal

from sageconnect.kpi import svg


def axis(chart: str) -> list[str]:
    return re.findall(r'text-anchor="end" font-size="11" fill="#555">([^<]*)<', chart)


def test_a_quarter_of_a_round_top_is_labelled_exactly() -> None:
    """A 25 000 top has lines at 6,25 k, 12,5 k and 18,75 k, not 6 k, 12 k, 19 k."""
    chart = svg.bars("c", "t", ["a"], [svg.Series("s", [Decimal(24000)], "#000")])
    assert axis(chart) == ["0", "6,25 k", "12,5 k", "18,75 k", "25 k"]


def test_an_empty_chart_does_not_repeat_its_labels() -> None:
    """Nothing to draw: 0 to 1 by quarters, not 0, 0, 0, 1, 1."""
    chart = svg.bars("c", "t", ["a"], [svg.Series("s", [Decimal(0)], "#000")])
    assert axis(chart) == ["0", "0,25", "0,5", "0,75", "1"]


def test_millions_keep_their_decimals() -> None:
    """A 2 500 000 top: 625 k, 1,25 M, 1,875 M..."""
    chart = svg.bars("c", "t", ["a"], [svg.Series("s", [Decimal(2400000)], "#000")])
    assert axis(chart) == ["0", "625 k", "1,25 M", "1,88 M", "2,5 M"]
