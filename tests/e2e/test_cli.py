from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sageconnect.cli import main
from sageconnect.clock import FixedClock
from sageconnect.config import Config
from sageconnect.jobs import sync_company
from support import fec_lines, write_config

LINES = [
    "VE|Ventes|1|20260105|41100000|Clients|C1|Café de l'Étoile|FA1|20260105|Facture FA1|1234,56|0,00|||20260105||",
    "VE|Ventes|1|20260105|70600000|Prestations|||FA1|20260105|Facture FA1|0,00|1234,56|||20260105||",
]


def events(err: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in err.splitlines() if line.startswith("{")]


@pytest.fixture
def config(tmp_path: Path) -> Path:
    (tmp_path / "fec").mkdir()
    (tmp_path / "fec" / "1FEC20261231.txt").write_text(
        fec_lines(*LINES), encoding="utf-8"
    )
    return write_config(tmp_path, "sqlite:///store.db", "fec")


def test_sync_then_json_report_gives_amounts_as_strings(
    config: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    """The JSON balances report writes amounts as exact strings, dates as ISO."""
    assert main(["sync", "-c", str(config)], clock) == 0
    capsys.readouterr()
    assert (
        main(["report", "balances", "-c", str(config), "--format", "json"], clock) == 0
    )
    (row,) = json.loads(capsys.readouterr().out)
    assert row == {
        "company": "acme",
        "code": "C1",
        "name": "Café de l'Étoile",
        "ledger_balance": "1234.56",
        "open_invoices": "1234.56",
        "unapplied_credits": "0.00",
        "overdue": "1234.56",
        "oldest_due": "2026-02-04",
    }


def test_table_and_csv_reports(
    config: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    """The table shows French amounts; the CSV has one header and plain decimals."""
    main(["sync", "-c", str(config)], clock)
    capsys.readouterr()
    main(["report", "balances", "-c", str(config)], clock)
    assert "1 234,56" in capsys.readouterr().out
    main(["report", "balances", "-c", str(config), "--format", "csv"], clock)
    out = capsys.readouterr().out.splitlines()
    assert (
        out[0]
        == "company,code,name,ledger_balance,open_invoices,unapplied_credits,overdue,oldest_due"
    )
    assert out[1] == "acme,C1,Café de l'Étoile,1234.56,1234.56,0.00,1234.56,2026-02-04"


def test_the_sync_log_is_one_summary_line(
    config: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    """A sync logs sync_started and one sync_finished with counts, duration and context,
    and the seconds of each phase, which do not add up to more than the duration."""
    main(["sync", "-c", str(config)], clock)
    logged = events(capsys.readouterr().err)
    assert [e["event"] for e in logged] == ["sync_started", "sync_finished"]
    said = {k: str(v) for k, v in logged[-1].items()}
    phases = {k: float(v) for k, v in said.items() if k.endswith("_s")}
    total = phases.pop("duration_s")
    assert sorted(phases) == ["lettering_s", "match_s", "merge_s", "read_s"]
    assert phases["read_s"] > 0
    assert min(phases.values()) >= 0
    assert sum(phases.values()) <= total + 0.002  # each rounded to the millisecond
    main(["sync", "-c", str(config)], clock)
    finished = events(capsys.readouterr().err)[-1]
    assert finished["source_unchanged"] is True
    assert (finished["company"], finished["source"], finished["inserted"]) == (
        "acme",
        "fec",
        0,
    )
    assert isinstance(finished["run_id"], str)
    assert isinstance(finished["duration_s"], float)


def test_a_missing_file_is_one_error_event_and_exit_69(
    tmp_path: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    """An absent source ends with one sync_failed event naming the path, and exit 69."""
    config = write_config(tmp_path, "sqlite:///store.db", "nowhere/*.txt")
    assert main(["sync", "-c", str(config)], clock) == 69
    failures = [e for e in events(capsys.readouterr().err) if e["level"] == "error"]
    assert len(failures) == 1
    assert failures[0]["event"] == "sync_failed"
    assert failures[0]["reason"] == "no file matches the source path"


def test_a_bad_config_exits_78_before_touching_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An invalid config stops at start-up with EX_CONFIG and writes no store."""
    path = tmp_path / "config.toml"
    path.write_text(
        '[store]\nurl = "sqlite:///store.db"\n[companies.x]\nname = "X"\n',
        encoding="utf-8",
    )
    assert main(["sync", "-c", str(path)]) == 78
    assert "companies.x.source = (missing)" in capsys.readouterr().err
    assert not (tmp_path / "store.db").exists()


def test_an_unexpected_failure_stops_one_company_not_the_others(
    config: Path,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A bug hitting one company exits 70 after the other companies are synced."""
    text = config.read_text(encoding="utf-8")
    company = text[text.index("[companies.acme]") :]
    beta = company.replace("[companies.acme", "[companies.beta")
    config.write_text(text + beta, encoding="utf-8")

    def flaky(cfg: Config, code: str, *args: Any, **kwargs: Any) -> Any:
        if code == "acme":
            raise RuntimeError("a bug")
        return sync_company(cfg, code, *args, **kwargs)

    monkeypatch.setattr("sageconnect.jobs.sync_company", flaky)
    assert main(["sync", "-c", str(config)], clock) == 70
    capsys.readouterr()
    assert (
        main(
            [
                "report",
                "balances",
                "-c",
                str(config),
                "--company",
                "beta",
                "--format",
                "json",
            ],
            clock,
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out)[0]["company"] == "beta"
