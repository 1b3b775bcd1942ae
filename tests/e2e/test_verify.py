"""`sageconnect verify`: the store against the source, per customer, on every fixture."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from sageconnect.cli import main
from sageconnect.clock import FixedClock
from sageconnect.store.engine import open_store
from support import ROOT, SageDb, write_config


def run(
    argv: list[str], clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> tuple[int, list[dict[str, object]]]:
    capsys.readouterr()
    status = main(argv, clock)
    err = capsys.readouterr().err
    return status, [json.loads(x) for x in err.splitlines() if x.startswith("{")]


def table(
    argv: list[str], clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> str:
    capsys.readouterr()
    main(argv, clock)
    return capsys.readouterr().out


def finished(events: list[dict[str, object]]) -> dict[str, object]:
    (event,) = [e for e in events if e["event"] == "verify_finished"]
    return event


@pytest.mark.parametrize(
    ("folder", "mapping", "method", "set_aside"),
    [
        ("fec", "fec", "source totals", "0.00"),
        ("fec-malformed", "fec", "source totals", "0.00"),
        ("ebp", "ebp", "source totals", "0.00"),
        ("csv", "csv", "full re-read", "20.00"),  # CLI009: no such customer
    ],
)
def test_every_file_fixture_verifies_with_no_difference(  # noqa: PLR0917 - fixtures
    tmp_path: Path,
    clock: FixedClock,
    capsys: pytest.CaptureFixture[str],
    folder: str,
    mapping: str,
    method: str,
    set_aside: str,
) -> None:
    """After a sync, each customer's balance equals the source's, and its open items."""
    config = write_config(
        tmp_path, "sqlite:///store.db", str(ROOT / "fixtures" / folder)
    )
    config.write_text(
        config.read_text(encoding="utf-8").replace('"fec"', f'"{mapping}"'),
        encoding="utf-8",
    )
    assert main(["sync", "-c", str(config)], clock) == 0
    status, events = run(["verify", "-c", str(config)], clock, capsys)
    assert status == 0
    event = finished(events)
    assert (event["method"], event["differences"], event["set_aside"]) == (
        method,
        0,
        set_aside,
    )
    assert event["source_total"] == event["store_total"]
    assert int(str(event["customers"])) >= 3


def test_sage_verifies_through_its_own_sum(
    sage: SageDb, tmp_path: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    """Over ODBC, the mapping's [totals] query (Sage's own SUM) agrees with the store."""
    config = tmp_path / "config.toml"
    config.write_text(
        f'[store]\nurl = "sqlite:///{tmp_path / "store.db"}"\n'
        '[companies.acme]\nname = "ACME"\n'
        f'[companies.acme.source]\nmapping = "sage100"\n{sage.source_settings}',
        encoding="utf-8",
    )
    assert main(["sync", "-c", str(config)], clock) == 0
    status, events = run(["verify", "-c", str(config)], clock, capsys)
    event = finished(events)
    assert (status, event["method"], event["differences"]) == (0, "source totals", 0)
    assert event["source_total"] == str(sum(sage.summary.balances.values()))


def test_sage_gescom_verifies_by_a_full_re_read(
    sage: SageDb, tmp_path: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    """A mapping without [totals] is checked against a fresh full read."""
    config = tmp_path / "config.toml"
    config.write_text(
        f'[store]\nurl = "sqlite:///{tmp_path / "store.db"}"\n'
        '[companies.acme]\nname = "ACME"\n'
        f'[companies.acme.source]\nmapping = "sage100-gescom"\n{sage.source_settings}',
        encoding="utf-8",
    )
    assert main(["sync", "-c", str(config)], clock) == 0
    status, events = run(["verify", "-c", str(config)], clock, capsys)
    event = finished(events)
    assert (status, event["method"], event["differences"]) == (0, "full re-read", 0)


def test_a_store_that_drifted_is_reported_customer_by_customer(
    tmp_path: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    """A changed amount in the store: exit 65, one verify_difference naming the customer."""
    config = write_config(
        tmp_path, "sqlite:///store.db", str(ROOT / "fixtures" / "fec")
    )
    assert main(["sync", "-c", str(config)], clock) == 0
    engine = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE invoices SET amount = amount + 1 WHERE id = (SELECT MIN(i.id)"
                " FROM invoices i JOIN customers c ON c.id = i.customer_id"
                " WHERE c.code = 'C0005' AND i.amount > 0)"
            )
        )
    status, events = run(["verify", "-c", str(config)], clock, capsys)
    assert status == 65
    (diff,) = [e for e in events if e["event"] == "verify_difference"]
    assert (diff["customer"], diff["difference"]) == ("C0005", "0.01")
    assert finished(events)["differences"] == 1
    lines = table(["verify", "-c", str(config)], clock, capsys).splitlines()
    (row,) = [
        cells for cells in map(str.split, lines) if cells[:2] == ["acme", "C0005"]
    ]
    assert row[-1] == "0,01"  # store - source, as the accountant reads it
