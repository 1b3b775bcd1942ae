"""Every mapper shipped, run through the contract suite plug-in authors use too."""

from __future__ import annotations

from pathlib import Path

import pytest

from sageconnect.clock import FixedClock
from sageconnect.config import load
from sageconnect.jobs import build_mapper
from sageconnect.testing import assert_mapper
from support import ROOT, build_sage, drop_sage

FIXTURES = ROOT / "fixtures"


def config_file(tmp_path: Path, source: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        '[store]\nurl = "sqlite:///s.db"\n[companies.acme]\nname = "ACME"\n'
        f"[companies.acme.source]\n{source}\n"
        '[companies.acme.payment_terms]\ndefault = "30d"\n'
        'by_customer = { C0003 = "45d-eom", C0007 = "45d-eom", C0010 = "60d", C0011 = "60d" }\n',
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(
    ("source", "golden"),
    [
        (
            f'mapping = "fec"\npath = "{FIXTURES / "fec"}"',
            FIXTURES / "fec" / "expected",
        ),
        (
            f'mapping = "fec"\npath = "{FIXTURES / "fec-malformed"}"',
            FIXTURES / "fec-malformed" / "expected",
        ),
        (
            f'mapping = "csv"\npath = "{FIXTURES / "csv"}"',
            FIXTURES / "csv" / "expected",
        ),
        (
            f'mapping = "ebp"\npath = "{FIXTURES / "ebp"}"',
            FIXTURES / "ebp" / "expected",
        ),
    ],
    ids=["fec", "fec-malformed", "csv", "ebp"],
)
def test_file_mappers_meet_the_contract(
    tmp_path: Path, clock: FixedClock, source: str, golden: Path, update_golden: bool
) -> None:
    """File mappers' records and rejects match the golden files; a re-read adds nothing."""
    config = load(config_file(tmp_path, source))
    mapper = build_mapper(config, "acme", clock)
    assert_mapper(mapper, golden, update=update_golden, root=ROOT)


@pytest.mark.parametrize("mapping", ["sage100", "sage100-gescom"])
def test_the_sage100_mappers_meet_the_contract(
    tmp_path: Path, clock: FixedClock, update_golden: bool, mapping: str
) -> None:
    """The Sage 100 ODBC mappers (SQLite driver) match their golden records; a re-read adds nothing."""
    db = build_sage("sqlite", tmp_path)
    try:
        source = f'mapping = "{mapping}"\n{db.source_settings}'
        config = load(config_file(tmp_path, source))
        folder = "expected" if mapping == "sage100" else "expected-gescom"
        golden = FIXTURES / "sage100" / folder
        assert_mapper(build_mapper(config, "acme", clock), golden, update=update_golden)
    finally:
        drop_sage(db)
