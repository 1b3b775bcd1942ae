from __future__ import annotations

import codecs
import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from sageconnect.bank.folder import detect_format, read_statements
from sageconnect.bank.lines import BankLine
from sageconnect.errors import SourceUnavailable
from sageconnect.model.records import Reject

CFONB = "sample.cfonb"
CAMT = "sample-camt053.xml"


@pytest.fixture
def inbox(samples: Path, tmp_path: Path) -> Path:
    """A drop folder with both samples, under names that sort camt first."""
    folder = tmp_path / "inbox"
    folder.mkdir()
    shutil.copy(samples / CAMT, folder / "2026-11-20-camt.xml")
    shutil.copy(samples / CFONB, folder / "2026-11-20-releve.txt")
    return folder


def test_the_format_is_told_by_content(samples: Path, tmp_path: Path) -> None:
    """XML is camt, 120-character 01/04 records are CFONB, anything else is None."""
    assert detect_format(samples / CAMT) == "camt053"
    assert detect_format(samples / CFONB) == "cfonb120"
    glued = tmp_path / "glued"
    glued.write_bytes((samples / CFONB).read_bytes().replace(b"\r\n", b""))
    assert detect_format(glued) == "cfonb120"
    bom = tmp_path / "bom"
    bom.write_bytes(codecs.BOM_UTF8 + b"\n  " + (samples / CAMT).read_bytes())
    assert detect_format(bom) == "camt053"
    utf16 = tmp_path / "utf16"
    utf16.write_bytes((samples / CAMT).read_text(encoding="utf-8").encode("utf-16"))
    assert detect_format(utf16) == "camt053"
    for junk in (b"", b"   \n", b"JournalCode|EcritureNum\n", b"01 short line\n"):
        other = tmp_path / "other"
        other.write_bytes(junk)
        assert detect_format(other) is None, junk


def test_every_statement_is_read_in_name_order(inbox: Path) -> None:
    """Files sorted by name; each one read by the reader its content calls for."""
    items = list(read_statements(inbox))
    assert all(isinstance(item, BankLine) for item in items)
    sources = [item.source for item in items if isinstance(item, BankLine)]
    assert sources == ["2026-11-20-camt.xml"] * 6 + ["2026-11-20-releve.txt"] * 3
    amounts = [item.amount for item in items if isinstance(item, BankLine)]
    assert amounts[-3:] == [Decimal("1234.56"), Decimal("-92.00"), Decimal("484.38")]


def test_files_being_written_are_left_for_later(inbox: Path, samples: Path) -> None:
    """Hidden, .tmp and .part files are skipped; so are folders."""
    for name in ("2026-11-21.xml.part", "2026-11-21.TMP", ".2026-11-21.xml"):
        shutil.copy(samples / CAMT, inbox / name)
    (inbox / "archive").mkdir()
    shutil.copy(samples / CAMT, inbox / "archive" / "old.xml")
    sources = {
        item.source for item in read_statements(inbox) if isinstance(item, BankLine)
    }
    assert sources == {"2026-11-20-camt.xml", "2026-11-20-releve.txt"}


def test_a_file_of_another_kind_is_one_reject(inbox: Path) -> None:
    (inbox / "2026-11-20-notes.txt").write_text(
        "Relevé à traiter lundi\n", encoding="utf-8"
    )
    rejects = [item for item in read_statements(inbox) if isinstance(item, Reject)]
    assert [(r.where, r.reason) for r in rejects] == [
        ("2026-11-20-notes.txt", "not a camt.053 or CFONB 120 file")
    ]


def test_the_pattern_chooses_the_files(inbox: Path) -> None:
    items = list(read_statements(inbox, "*.txt"))
    assert {item.source for item in items if isinstance(item, BankLine)} == {
        "2026-11-20-releve.txt"
    }


def test_a_missing_folder_is_a_source_unavailable(tmp_path: Path) -> None:
    with pytest.raises(SourceUnavailable, match="not a folder"):
        list(read_statements(tmp_path / "nowhere"))


def test_a_statement_delivered_twice_keeps_its_keys(inbox: Path, build: Any) -> None:
    """Day file then a re-sent file with the same movements: the same keys, so
    whoever stores them can tell the second delivery is not new money."""
    day = dt.date(2026, 11, 23)
    moves = [
        build.Movement(booked=day, amount=Decimal("100.00"), payer_name="A SARL"),
        build.Movement(booked=day, amount=Decimal("100.00"), payer_name="A SARL"),
    ]
    for name in ("2026-11-23.cfonb", "2026-11-23-resent.cfonb"):
        text = build.cfonb120("00012345678", moves)
        (inbox / name).write_bytes(text.encode("latin-1"))
    for name in ("2026-11-23.xml", "2026-11-23-resent.xml"):
        text = build.camt053("FR7630004001230001234567891", moves)
        (inbox / name).write_text(text, encoding="utf-8")
    lines = [
        item
        for item in read_statements(inbox, "2026-11-23*")
        if isinstance(item, BankLine)
    ]
    by_source: dict[str, list[str]] = {}
    for line in lines:
        by_source.setdefault(line.source, []).append(line.key)
    assert by_source["2026-11-23.cfonb"] == by_source["2026-11-23-resent.cfonb"]
    assert by_source["2026-11-23.xml"] == by_source["2026-11-23-resent.xml"]
    assert len({key for keys in by_source.values() for key in keys}) == 4
