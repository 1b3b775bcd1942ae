"""The file note writer: a daily CSV for sites that forbid direct writes.

``sageconnect-notes-<company>-<YYYYMMDD>.csv`` (the day of writing) in the
configured folder: ``;``-separated, CRLF, cp1252 by default, a header line,
French dates and decimal commas, ready for Sage's parameterised import or a
spreadsheet. DOMAIN.md documents no Sage import format for notes (PNM carries
accounting entries only), so this CSV is the format.

Each line is appended with a single write and flushed to disk before the note is
recorded; ``exists`` looks for the marker in every daily file still in the
folder, so a retry after a crash never adds the line twice.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
from collections.abc import Callable
from pathlib import Path

from sageconnect.errors import WriteBackError
from sageconnect.model.notes import Note
from sageconnect.writeback.text import encodable

HEADER = (
    "date",
    "societe",
    "client",
    "repere",
    "niveau",
    "etape",
    "canal",
    "resultat",
    "montant",
    "penalites",
    "indemnite",
    "factures",
    "note",
)


class FileNoteWriter:
    """Appends one line per note to the day's CSV file."""

    name = "file"

    def __init__(
        self,
        folder: Path,
        company: str,
        today: Callable[[], dt.date],
        *,
        encoding: str = "cp1252",
        length: int | None = None,
    ) -> None:
        self.folder = folder
        self.company = company
        self.today = today
        self.encoding = encoding
        self.length = length
        self._seen: bytes | None = None  # the files' bytes, read once per run

    def _files(self) -> list[Path]:
        return sorted(self.folder.glob(f"sageconnect-notes-{self.company}-*.csv"))

    def exists(self, note: Note) -> bool:
        if self._seen is None:
            try:
                self._seen = b"\n".join(path.read_bytes() for path in self._files())
            except OSError as exc:
                raise WriteBackError(
                    self.name, f"{exc.strerror}: {exc.filename}"
                ) from None
        return note.marker.encode(self.encoding) in self._seen

    def write(self, note: Note) -> None:
        path = (
            self.folder / f"sageconnect-notes-{self.company}-{self.today():%Y%m%d}.csv"
        )
        fields = (
            f"{note.on:%d/%m/%Y}",
            note.company,
            note.customer,
            note.marker,
            str(note.level),
            note.step,
            note.channel,
            note.outcome,
            _decimal(note.total),
            _decimal(note.interest),
            _decimal(note.indemnity),
            " ".join(i.number for i in note.invoices),
            note.text,
        )
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                new = os.fstat(fd).st_size == 0
                data = (_line(HEADER) if new else "") + _line(fields)
                encoded = encodable(data, self.encoding).encode(self.encoding)
                os.write(fd, encoded)
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise WriteBackError(self.name, f"{exc.strerror}: {exc.filename}") from None
        if self._seen is not None:
            self._seen += b"\n" + encoded

    def close(self) -> None:
        """Nothing stays open between notes; the next run reads the files again."""
        self._seen = None


def _line(fields: tuple[str, ...]) -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerow(fields)
    return out.getvalue()


def _decimal(value: object) -> str:
    return f"{value}".replace(".", ",")
