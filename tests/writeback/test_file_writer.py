"""The daily CSV for sites that forbid direct writes: golden output, once per note."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from sageconnect.errors import WriteBackError
from sageconnect.testing import assert_note_writer, compare_golden, sample_notes
from sageconnect.writeback.file_writer import FileNoteWriter

GOLDEN = Path(__file__).parent / "golden"
DAY = dt.date(2026, 11, 24)


def writer(folder: Path, length: int | None = None) -> FileNoteWriter:
    return FileNoteWriter(folder, "acme", lambda: DAY, length=length)


def test_the_daily_file_matches_the_golden_one(
    tmp_path: Path, update_golden: bool
) -> None:
    """cp1252, ;-separated, CRLF, a header, French dates and decimal commas."""
    files = writer(tmp_path)
    for note in sample_notes(encoding="cp1252"):
        files.write(note)
    (written,) = tmp_path.glob("*.csv")
    assert written.name == "sageconnect-notes-acme-20261124.csv"
    data = written.read_bytes()
    assert data.count(b"\r\n") == 3
    assert "cœur €".encode("cp1252") in data
    lines = data.decode("cp1252").splitlines()
    compare_golden(GOLDEN / "sageconnect-notes-acme.csv", lines, update=update_golden)


def test_a_marker_in_an_earlier_daily_file_is_found(tmp_path: Path) -> None:
    """A retry on the next day finds the line the crashed attempt wrote."""
    first, second = sample_notes(encoding="cp1252")
    writer(tmp_path).write(first)
    later = FileNoteWriter(tmp_path, "acme", lambda: DAY + dt.timedelta(days=1))
    assert later.exists(first)
    assert not later.exists(second)
    assert not FileNoteWriter(tmp_path, "other", lambda: DAY).exists(first)


def test_the_file_writer_meets_the_note_writer_contract(tmp_path: Path) -> None:
    """The contract suite plug-in authors run, on the file writer."""
    assert_note_writer(writer(tmp_path / "new-folder"))


def test_a_folder_that_cannot_be_written_is_a_write_back_error(
    tmp_path: Path,
) -> None:
    """A file where the folder should be: WriteBackError, nothing else."""
    blocked = tmp_path / "blocked"
    blocked.write_text("", encoding="utf-8")
    files = writer(blocked)
    (note, _) = sample_notes()
    with pytest.raises(WriteBackError, match="blocked"):
        files.write(note)
