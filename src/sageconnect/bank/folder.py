"""A folder where bank statements are dropped: every file read, in name order.

The format is told by content, not by name: XML is camt.053/054, 120-character
records starting ``01`` or ``04`` are CFONB 120. Hidden files and ``.tmp`` or
``.part`` files are still being written and are left for the next run.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from pathlib import Path

from sageconnect.bank.camt import CAMT053, read_camt053
from sageconnect.bank.cfonb import CFONB120, WIDTH, read_cfonb120
from sageconnect.bank.lines import BankLine
from sageconnect.errors import SourceUnavailable
from sageconnect.model.records import Reject

HEAD_BYTES = 4096
IN_PROGRESS = (".tmp", ".part")
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_SHORTEST_FIRST_RECORD = 104  # trailing blanks trimmed, the balance amount kept


def read_statements(folder: Path, pattern: str = "*") -> Iterator[BankLine | Reject]:
    """Yield the movements of every statement file in ``folder``, sorted by name."""
    if not folder.is_dir():
        raise SourceUnavailable(str(folder), "not a folder")
    for path in sorted(folder.glob(pattern)):
        if not path.is_file() or _in_progress(path):
            continue
        fmt = detect_format(path)
        if fmt == CAMT053:
            yield from read_camt053(path)
        elif fmt == CFONB120:
            yield from read_cfonb120(path)
        else:
            yield Reject(where=path.name, reason="not a camt.053 or CFONB 120 file")


def _in_progress(path: Path) -> bool:
    """Hidden, or named as a file still being written."""
    return path.name.startswith(".") or path.name.lower().endswith(IN_PROGRESS)


def detect_format(path: Path) -> str | None:
    """``"camt053"``, ``"cfonb120"`` or None, from the first bytes of the file."""
    try:
        with path.open("rb") as handle:
            head = handle.read(HEAD_BYTES)
    except OSError as exc:
        raise SourceUnavailable(str(path), exc.strerror or str(exc)) from exc
    if head.startswith(_UTF16_BOMS):
        head = head.decode("utf-16", errors="ignore").encode("utf-8")
    text = head.removeprefix(codecs.BOM_UTF8).lstrip()
    if text.startswith(b"<"):
        return CAMT053
    first = text.split(b"\n", 1)[0].rstrip(b"\r")
    if b"\n" not in text and b"\r" not in text:
        first = first[:WIDTH]  # no line ends: records follow each other
    record = first.rstrip(b" ")
    if first.startswith((b"01", b"04")) and (
        _SHORTEST_FIRST_RECORD <= len(record) <= WIDTH
    ):
        return CFONB120
    return None
