"""A FEC with one defect per kind: every good line imports, every bad one is set aside."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from sageconnect.cli import main
from sageconnect.clock import FixedClock
from sageconnect.config import load
from sageconnect.jobs import sync_company
from sageconnect.store.queries import company_ids, open_rejects
from sageconnect.store.tables import invoices, payments
from support import ROOT, write_config

FILE = ROOT / "fixtures" / "fec-malformed" / "900000001FEC20261231.txt"
DEFECTS = {
    5: ("EcritureDate", "20261345"),
    18: ("Debit", "12,3.4"),
    23: ("Idevise", None),
    32: ("CompAuxLib", None),
    40: ("Debit", ""),
}


def good_receivable_lines() -> int:
    """Receivable lines outside the known defects, counted straight from the bytes."""
    count = 0
    for number, raw in enumerate(FILE.read_bytes().split(b"\n"), start=1):
        fields = raw.split(b"\t")
        if (
            number > 1
            and number not in DEFECTS
            and len(fields) > 4
            and fields[4].startswith(b"411")
        ):
            count += 1
    return count


def test_good_lines_import_and_bad_ones_are_set_aside(
    tmp_path: Path, store_url: str, engine: Engine, clock: FixedClock
) -> None:
    """Each defect is one reject with its line and field; all other receivable lines are in."""
    config = load(write_config(tmp_path, store_url, str(FILE)))
    report = sync_company(config, "acme", engine, clock)
    assert report.status == "completed_with_rejects"
    assert report.rejected == len(DEFECTS)
    with engine.connect() as conn:
        rejects = open_rejects(conn, company_ids(conn)["acme"])
        imported = sum(
            conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (invoices, payments)
        )
    assert {r.line: r.field for r in rejects} == {
        line: field for line, (field, _) in DEFECTS.items()
    }
    for r in rejects:
        expected_value = DEFECTS[r.line][1]
        if expected_value is not None:
            assert r.value == expected_value
        assert r.file == str(FILE)
        assert r.reason
    assert imported == good_receivable_lines()
    again = sync_company(config, "acme", engine, clock, full=True)
    assert (again.rejected, again.new_rejects, again.inserted, again.updated) == (
        len(DEFECTS),
        0,
        0,
        0,
    )


def test_the_cli_exits_0_and_lists_the_rejects(
    tmp_path: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    """Rejects do not fail the run; the log counts them and the rejects report lists them."""
    config = write_config(tmp_path, "sqlite:///s.db", str(FILE))
    assert main(["sync", "-c", str(config)], clock) == 0
    events = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    finished = events[-1]
    assert (finished["event"], finished["status"], finished["rejected"]) == (
        "sync_finished",
        "completed_with_rejects",
        len(DEFECTS),
    )
    assert sorted(e["line"] for e in events if e["event"] == "row_rejected") == sorted(
        DEFECTS
    )
    assert (
        main(["report", "rejects", "-c", str(config), "--format", "json"], clock) == 0
    )
    listed = json.loads(capsys.readouterr().out)
    assert [(r["line"], r["field"]) for r in listed] == [
        (line, f) for line, (f, _) in sorted(DEFECTS.items())
    ]
