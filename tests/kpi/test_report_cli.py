"""``sageconnect report <kpi name>`` in every format, and the [reports] checks."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest

from sageconnect.cli import main
from sageconnect.clock import FixedClock
from support import ROOT, write_config


@pytest.fixture
def config(tmp_path: Path, clock: FixedClock) -> Path:
    """The demo FEC synced into an SQLite store."""
    path = write_config(
        tmp_path, f"sqlite:///{tmp_path / 's.db'}", str(ROOT / "fixtures" / "fec")
    )
    assert main(["sync", "-c", str(path)], clock=clock) == 0
    return path


def report(
    config: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str], *args: str
) -> str:
    capsys.readouterr()
    assert main(["report", *args, "-c", str(config)], clock=clock) == 0
    return capsys.readouterr().out


def test_kpi_json_gives_every_ratio_as_a_string(
    config: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    """One object per company; the receivable is the balances report's total."""
    [kpi] = json.loads(report(config, clock, capsys, "kpi", "--format", "json"))
    balances = json.loads(report(config, clock, capsys, "balances", "--format", "json"))
    total = sum(Decimal(b["ledger_balance"]) for b in balances)
    assert kpi["company"] == "acme"
    assert kpi["as_of"] == "2026-11-24"
    assert Decimal(kpi["receivable"]) == total
    for name in ("dso_countback", "dso_simple", "best_dso", "add", "cei"):
        assert isinstance(kpi[name], str)
        Decimal(kpi[name])


def test_aged_balance_csv_has_a_column_per_bucket_and_a_total_row(
    config: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    """not_due, 1-30 ... over 90, unapplied, total; the TOTAL row adds the customers."""
    rows = list(
        csv.DictReader(
            io.StringIO(
                report(config, clock, capsys, "aged-balance", "--format", "csv")
            )
        )
    )
    assert list(rows[0]) == [
        "company",
        "customer",
        "name",
        "not_due",
        "1-30",
        "31-60",
        "61-90",
        "over 90",
        "unapplied",
        "total",
    ]
    assert rows[-1]["customer"] == "TOTAL"
    assert Decimal(rows[-1]["total"]) == sum(Decimal(r["total"]) for r in rows[:-1])


def test_forecast_lists_thirteen_weeks_then_later_doubtful_disputed(
    config: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    """Weeks 1 to 13 from Monday 23 November, then the three amounts outside them."""
    rows = json.loads(report(config, clock, capsys, "forecast", "--format", "json"))
    assert [r["week"] for r in rows] == [
        *(str(n) for n in range(1, 14)),
        "later",
        "doubtful",
        "disputed",
    ]
    assert rows[0]["start"] == "2026-11-23"


def test_priority_and_activity_print_as_tables(
    config: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    """The call list ranks from 1 with a reason; no reminder sent yet: nothing to show."""
    out = report(config, clock, capsys, "priority")
    assert "rank" in out
    assert "en retard" in out
    assert "(nothing to show)" in report(config, clock, capsys, "dunning-activity")


def test_html_format_writes_the_whole_report(
    config: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """--format html --output writes the self-contained report; ledger names a table."""
    target = tmp_path / "r" / "kpi.html"
    assert (
        report(
            config, clock, capsys, "kpi", "--format", "html", "--output", str(target)
        )
        == ""
    )
    assert '<svg id="chart-aged"' in target.read_text(encoding="utf-8")
    table = report(config, clock, capsys, "balances", "--format", "html")
    assert table.startswith("<!DOCTYPE html>")
    assert "<th>ledger_balance</th>" in table


def test_bad_buckets_stop_at_start_up_naming_the_key(
    tmp_path: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    """Buckets out of order are a config error (exit 78) that names reports.buckets."""
    path = write_config(
        tmp_path,
        f"sqlite:///{tmp_path / 's.db'}",
        str(ROOT / "fixtures" / "fec"),
        "\n[reports]\nbuckets = [60, 30]\n",
    )
    assert main(["report", "kpi", "-c", str(path)], clock=clock) == 78
    err = capsys.readouterr().err
    assert "reports.buckets" in err
    assert "ascending" in err


def test_one_html_file_for_several_companies_stops_at_start_up(
    tmp_path: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without {company} in [reports] html, two companies would overwrite one file."""
    path = write_config(
        tmp_path,
        f"sqlite:///{tmp_path / 's.db'}",
        str(ROOT / "fixtures" / "fec"),
        '\n[companies.beta]\nname = "Beta"\n[companies.beta.source]\nmapping = "fec"\n'
        f'path = "{ROOT / "fixtures" / "fec"}"\n'
        '[reports]\nhtml = "var/report.html"\n',
    )
    assert main(["check", "-c", str(path)], clock=clock) == 78
    err = capsys.readouterr().err
    assert "reports.html" in err
    assert "{company}" in err


@pytest.mark.parametrize(
    ("key", "mail"),
    [
        ("reports.mail.to", 'from_address = "sc@acme.example"\nto = ["daf at acme"]'),
        ("reports.mail.from_address", 'from_address = "sc"\nto = ["daf@acme.example"]'),
    ],
)
def test_a_report_address_that_is_not_one_stops_at_start_up(
    tmp_path: Path,
    clock: FixedClock,
    capsys: pytest.CaptureFixture[str],
    key: str,
    mail: str,
) -> None:
    """A bad [reports.mail] address fails check, not the Monday e-mail."""
    path = write_config(
        tmp_path,
        f"sqlite:///{tmp_path / 's.db'}",
        str(ROOT / "fixtures" / "fec"),
        f'\n[reports.mail]\nhost = "127.0.0.1"\n{mail}\n',
    )
    assert main(["check", "-c", str(path)], clock=clock) == 78
    assert key in capsys.readouterr().err


def test_html_for_several_companies_is_one_document(
    tmp_path: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two companies' reports in one valid page: one doctype, one body, both titles."""
    fec = ROOT / "fixtures" / "fec"
    path = write_config(
        tmp_path,
        f"sqlite:///{tmp_path / 's.db'}",
        str(fec),
        f'\n[companies.beta]\nname = "Beta"\n[companies.beta.source]\n'
        f'mapping = "fec"\npath = "{fec}"\n',
    )
    assert main(["sync", "-c", str(path)], clock=clock) == 0
    page = report(path, clock, capsys, "kpi", "--format", "html")
    assert page.count("<!DOCTYPE html>") == 1
    assert page.count("<body>") == page.count("</body>") == 1
    assert page.count("</html>") == 1
    assert "<h1>Créances clients – ACME SAS</h1>" in page
    assert "<h1>Créances clients – Beta</h1>" in page


def test_html_with_more_buckets_than_colours(
    tmp_path: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    """Seven bars (not due and six buckets): the aged chart draws each one."""
    path = write_config(
        tmp_path,
        f"sqlite:///{tmp_path / 's.db'}",
        str(ROOT / "fixtures" / "fec"),
        "\n[reports]\nbuckets = [15, 30, 45, 60, 90]\n",
    )
    assert main(["sync", "-c", str(path)], clock=clock) == 0
    page = report(path, clock, capsys, "kpi", "--format", "html")
    chart = page.partition('<svg id="chart-aged"')[2].partition("</svg>")[0]
    assert chart.count('<rect class="bar"') == 7
