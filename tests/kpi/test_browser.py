"""The HTML report opened in a real headless browser (Debian's chromium)."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from sageconnect.cli import main
from sageconnect.clock import FixedClock
from support import ROOT, write_config

CHROMIUM = shutil.which("chromium")
AGED_GREEN = (0x2E, 0x7D, 0x32)  # the "not due" bar
FORECAST_BLUE = (0x15, 0x65, 0xC0)  # the forecast bars and the count-back DSO line


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (see .ci/run)")
def test_the_report_opens_offline_with_its_three_charts(
    tmp_path: Path, clock: FixedClock
) -> None:
    """Two cycles a day apart, then chromium renders the charts the DOM holds."""
    extra = '\n[reports]\nhtml = "out/report-{company}.html"\n'
    store = f"sqlite:///{tmp_path / 'store.db'}"
    config = write_config(tmp_path, store, str(ROOT / "fixtures" / "fec"), extra)
    assert main(["run", "--once", "-c", str(config)], clock=clock) == 0
    clock.advance(dt.timedelta(days=1))
    assert main(["run", "--once", "-c", str(config)], clock=clock) == 0
    report = tmp_path / "out" / "report-acme.html"

    dom = chromium(tmp_path, "--dump-dom", report.as_uri()).stdout
    for chart in ("chart-aged", "chart-dso", "chart-forecast"):
        assert re.search(rf'<svg id="{chart}"', dom)
    assert len(re.findall(r'<rect class="bar"', dom)) == 5 + 2 * 13
    assert re.search(r'<polyline class="line"', dom)  # two days: a DSO line
    assert "25/11/2026" in dom

    shot = tmp_path / "report.png"
    chromium(
        tmp_path, f"--screenshot={shot}", "--window-size=1280,1500", report.as_uri()
    )
    with Image.open(shot) as image:
        colors = {c for _, c in image.convert("RGB").getcolors(maxcolors=1 << 20) or []}
    assert AGED_GREEN in colors
    assert FORECAST_BLUE in colors
    assert len(colors) > 50  # text, cards and charts: not a blank page
