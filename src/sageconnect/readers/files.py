"""Delimited export files as French software writes them.

Handles a UTF-8 BOM, UTF-8 or ISO-8859-15 (or cp1252) text, TAB, ``|`` or ``;``
separators, CR LF, LF, CR CR LF and CR-only line ends, padded fields and a
trailing separator. Rows keep their 1-based physical line number; a row that
cannot be read is yielded as a Reject and the rest of the file goes on.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sageconnect.errors import SourceUnavailable
from sageconnect.model.records import Reject

SAMPLE_BYTES = 2 << 20
CHUNK_BYTES = 1 << 20
_C1 = re.compile(rb"[\x80-\x9f]")
DELIMITERS = ("\t", "|", ";")
Row = tuple[int, list[str]]


@dataclass(frozen=True, slots=True)
class FileFormat:
    """What sniffing found: how to decode and split the file."""

    encoding: str
    delimiter: str
    header: tuple[str, ...]
    header_line: int
    newline: bytes
    quoted: bool = False


def sniff(
    path: Path,
    *,
    encoding: str = "auto",
    delimiter: str = "auto",
    names: tuple[str, ...] = (),
    quoted: bool = False,
) -> FileFormat:
    """Read the start of a file and decide how to decode and split it.

    ``names`` gives the columns of a file without a header line; ``quoted`` says
    fields may be wrapped in double quotes (comma CSV from EBP and alike).
    """
    try:
        sample, extra = _samples(path)
    except OSError as exc:
        raise SourceUnavailable(str(path), exc.strerror or str(exc)) from exc
    newline = b"\n" if b"\n" in sample or b"\r" not in sample else b"\r"
    if encoding == "auto":
        encoding = _guess_encoding(sample + newline + extra, newline)
    number, first_text = _first_line(sample, newline, encoding)
    if first_text is None:
        raise SourceUnavailable(str(path), "empty file: no header line")
    if delimiter == "auto":
        delimiter = max(DELIMITERS, key=first_text.count)
        if first_text.count(delimiter) == 0:
            raise SourceUnavailable(
                str(path), "first line has no TAB, | or ; separator"
            )
    if names:
        return FileFormat(encoding, delimiter, names, 0, newline, quoted)
    try:
        names_read = _split(first_text, delimiter, quoted=quoted)
    except csv.Error as exc:
        reason = f"header line cannot be split: {exc}"
        raise SourceUnavailable(str(path), reason) from exc
    header = [name.strip() for name in names_read]
    while header and not header[-1]:
        header.pop()
    return FileFormat(encoding, delimiter, tuple(header), number, newline, quoted)


def _split(text: str, delimiter: str, *, quoted: bool) -> list[str]:
    if not quoted or '"' not in text:
        return text.split(delimiter)
    return next(csv.reader([text], delimiter=delimiter))


def read_rows(path: Path, fmt: FileFormat) -> Iterator[Row | Reject]:
    """Yield (line number, stripped fields) for each data line, or a Reject."""
    split = Splitter(str(path), fmt)
    for number, raw in data_lines(path, fmt):
        yield split(number, raw)


def data_lines(path: Path, fmt: FileFormat) -> Iterator[tuple[int, bytes]]:
    """(physical line number, bytes) of each non-blank line after the header."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise SourceUnavailable(str(path), exc.strerror or str(exc)) from exc
    header = fmt.header_line
    with handle:
        lines = handle if fmt.newline == b"\n" else _cr_lines(handle)
        for number, line in enumerate(lines, start=1):
            raw = line.rstrip(b"\r\n")
            if number > header and raw and not raw.isspace():
                yield number, raw


class Splitter:
    """Turns one line's bytes into its stripped fields, or a Reject."""

    def __init__(self, where: str, fmt: FileFormat) -> None:
        self.where = where
        self.fmt = fmt
        self.width = len(fmt.header)
        self.decode = codecs.getdecoder(fmt.encoding)

    def __call__(self, number: int, raw: bytes) -> Row | Reject:
        try:
            text = self.decode(raw)[0]
        except UnicodeDecodeError:
            return _undecodable(self.where, number, raw, self.fmt)
        return self.fields(number, text)

    def fields(self, number: int, text: str) -> Row | Reject:
        """The stripped fields of a line already decoded, or a Reject."""
        fmt, width = self.fmt, self.width
        if not fmt.quoted:
            parts = text.split(fmt.delimiter)
        else:
            try:
                parts = _split(text, fmt.delimiter, quoted=True)
            except csv.Error:  # a line break in an unquoted field: a bare CR
                return _line_break(self.where, number, text, fmt)
        # str.strip gives the field itself back when it has nothing to strip
        fields = list(map(str.strip, parts))
        if len(fields) > width and not any(fields[width:]):
            del fields[width:]
        if len(fields) != width:
            return _bad_width(self.where, number, fields, fmt.header)
        return number, fields


def _cr_lines(handle: BinaryIO) -> Iterator[bytes]:
    """Lines ended by a lone CR (old Mac software)."""
    rest = b""
    while chunk := handle.read(1 << 20):
        *lines, rest = (rest + chunk).split(b"\r")
        yield from lines
    if rest:
        yield rest


def _samples(path: Path) -> tuple[bytes, bytes]:
    """The head of the file, and whole lines from its middle and end if it is large."""
    with path.open("rb") as handle:
        head = handle.read(SAMPLE_BYTES)
        size = path.stat().st_size
        if size <= SAMPLE_BYTES + 2 * CHUNK_BYTES:
            return head, b""
        chunks = []
        for offset in (size // 2, size - CHUNK_BYTES):
            handle.seek(offset)
            chunk = handle.read(CHUNK_BYTES)
            chunks.append(chunk[chunk.find(b"\n") + 1 :])
        return head, b"".join(chunks)


def _guess_encoding(sample: bytes, newline: bytes) -> str:
    """UTF-8 (BOM or content) unless most accented lines are not UTF-8.

    A file that is not UTF-8 is cp1252 if it uses bytes 0x80-0x9F (Windows
    software writes e.g. "oe" and the apostrophe there; in ISO-8859-15 they are
    control characters), else ISO-8859-15, the FEC's legal 8-bit charset.
    """
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    good = bad = 0
    lines = sample.split(newline)
    for line in lines[:-1] if len(lines) > 1 else lines:
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            good += 1
        except UnicodeDecodeError:
            bad += 1
    if good >= bad:
        return "utf-8"
    return "cp1252" if _C1.search(sample) else "iso-8859-15"


def _first_line(sample: bytes, newline: bytes, encoding: str) -> tuple[int, str | None]:
    for number, raw in enumerate(sample.split(newline), start=1):
        line = raw.rstrip(b"\r")
        if line.strip():
            text = line.decode(encoding, errors="replace")
            return number, text.lstrip("\ufeff")
    return 0, None


def _undecodable(where: str, number: int, raw: bytes, fmt: FileFormat) -> Reject:
    text = raw.decode(fmt.encoding, errors="replace")
    fields = text.split(fmt.delimiter)
    for name, value in zip(fmt.header, fields, strict=False):
        if "\ufffd" in value:
            return Reject(
                where=where,
                line=number,
                field=name,
                value=value.strip(),
                reason=f"bytes that are not valid {fmt.encoding}",
            )
    return Reject(
        where=where,
        line=number,
        value=text[:80],
        reason=f"bytes that are not valid {fmt.encoding}",
    )


def _line_break(where: str, number: int, text: str, fmt: FileFormat) -> Reject:
    """A quoted-CSV line with a carriage return outside quotes: it cannot be split."""
    fields = zip(fmt.header, text.split(fmt.delimiter), strict=False)
    field, value = next(
        ((name, v) for name, v in fields if "\r" in v or "\n" in v), (None, text)
    )
    return Reject(
        where=where,
        line=number,
        field=field,
        value=value.replace("\r", " ").strip()[:80],
        reason="line break (CR) in an unquoted field: the line cannot be split",
    )


def _bad_width(
    where: str, number: int, fields: list[str], header: tuple[str, ...]
) -> Reject:
    width = len(header)
    if len(fields) < width:
        return Reject(
            where=where,
            line=number,
            field=header[len(fields)],
            reason=f"missing column: {len(fields)} fields where the header has {width}",
        )
    return Reject(
        where=where,
        line=number,
        value="|".join(fields[width:])[:80],
        reason=f"too many fields: {len(fields)} where the header has {width}",
    )
