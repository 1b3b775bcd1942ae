"""A ledger file cut into entries straight from its bytes, each with a digest.

An entry is the run of contiguous lines sharing a journal and an entry number:
the unit a ledger mapper turns into records. Its digest (the bytes of its
lines, salted with everything else its records depend on: mapping, settings,
version, file, and the file's header, separator and encoding) lets a later read skip an entry that has not changed without
decoding or parsing it. A line that cannot be read (wrong width, bytes not in
the file's encoding) stands alone, and the entry around it goes on, as when
the file is read row by row.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from hashlib import blake2b
from pathlib import Path
from struct import Struct

from sageconnect.mapping.ledger_line import Columns, LineCents, LineParser
from sageconnect.mapping.spec import MappingSpec
from sageconnect.model.records import Reject
from sageconnect.readers.files import FileFormat, Splitter, data_lines


@dataclass(slots=True)
class Entry:
    """Contiguous lines of one entry, or one loose line: physical numbers, bytes."""

    numbers: list[int]
    raws: list[bytes]
    loose: bool = False
    journal: str = ""  # as its first line states it, stripped

    def digest(self, salt: bytes) -> int:
        """A signed 64-bit digest of the salt and the lines' bytes; never 0."""
        h = blake2b(salt, digest_size=8)
        h.update(b"\n".join(self.raws))
        return _signed(h.digest())[0] or 1


_signed = Struct(">q").unpack  # big-endian signed, as int.from_bytes(..., signed=True)


def entries(
    path: Path, fmt: FileFormat, split: Splitter, keys: tuple[int, int]
) -> Iterator[Entry]:
    """The file's entries in file order; ``keys`` are the journal and entry columns.

    Lines are grouped on their stripped journal and entry fields, as decoded
    text; the bytes of those fields are compared first, so a line is decoded
    only where its fields' bytes change. Cheaper still, the common case: a line
    that starts with the same bytes as the entry's last line up to the
    delimiter after both key fields belongs to that entry.
    """
    j, e = keys
    cut = max(j, e) + 1
    delimiter = fmt.delimiter.encode("ascii")
    separators = len(fmt.header) - 1
    with_prefix = cut <= separators  # else a key field ends the line: no prefix
    encoding, quoted = fmt.encoding, fmt.quoted
    raw_key: bytes | None = None
    prefix = b""  # the last line's bytes up to the delimiter after the key fields
    key: tuple[str, str] | None = None
    numbers: list[int] = []
    raws: list[bytes] = []
    for number, raw in data_lines(path, fmt):
        if (
            quoted
            or raw.count(delimiter) != separators
            or (not raw.isascii() and not _decodes(raw, encoding))
        ):
            row = split(number, raw)
            if isinstance(row, Reject):
                yield Entry([number], [raw], loose=True)
                continue
            this_raw, this_key = None, (row[1][j], row[1][e])
            prefix = b""
        else:
            if prefix and raw.startswith(prefix):  # same key fields, byte for byte
                numbers.append(number)
                raws.append(raw)
                continue
            parts = raw.split(delimiter, cut)
            if with_prefix:
                prefix = raw[: len(raw) - len(parts[cut])]
            this_raw = parts[j] + delimiter + parts[e]
            if this_raw == raw_key:
                numbers.append(number)
                raws.append(raw)
                continue
            this_key = (
                parts[j].decode(encoding).strip(),
                parts[e].decode(encoding).strip(),
            )
        if this_key != key:
            if numbers and key is not None:
                yield Entry(numbers, raws, journal=key[0])
            numbers, raws, key = [], [], this_key
        raw_key = this_raw
        numbers.append(number)
        raws.append(raw)
    if numbers and key is not None:
        yield Entry(numbers, raws, journal=key[0])


def _decodes(raw: bytes, encoding: str) -> bool:
    try:
        raw.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


Parsed = tuple[str, list[LineCents | Reject], set[str]]


class EntryParser:
    """Entries of one file, and each as (journal, receivable lines, other accounts)."""

    def __init__(
        self,
        path: Path,
        fmt: FileFormat,
        spec: MappingSpec,
        receivable: tuple[str, ...],
        file_tag: str,
    ) -> None:
        assert spec.ledger is not None  # noqa: S101 - a ledger mapper's spec
        where = str(path)
        self.path, self.fmt = path, fmt
        columns = Columns.bind(fmt.header, spec.ledger, where)
        self.parser = LineParser(columns, spec.file, where, file_tag)
        self.split = Splitter(where, fmt)
        self.j, self.e, self.a = (
            columns.index[k] for k in ("journal", "entry", "account")
        )
        self.receivable = receivable
        self.delimiter = fmt.delimiter.encode("ascii")

    def entries(self) -> Iterator[Entry]:
        return entries(self.path, self.fmt, self.split, (self.j, self.e))

    def __call__(self, entry: Entry) -> Parsed:
        if entry.loose:  # unreadable: no entry to belong to
            row = self.split(entry.numbers[0], entry.raws[0])
            return "", [row] if isinstance(row, Reject) else [], set()
        lines: list[LineCents | Reject] = []
        others: set[str] = set()
        receivable, a, parse = self.receivable, self.a, self.parser.parse
        journal = entry.journal
        for number, raw in zip(entry.numbers, entry.raws, strict=True):
            other = self._other_account(raw)
            if other:  # the common case: a counterpart line, not decoded whole
                others.add(other)
                continue
            row = self.split(number, raw)
            if isinstance(row, Reject):  # pragma: no cover - loose lines stand alone
                lines.append(row)
                continue
            fields = row[1]
            if fields[a].startswith(receivable):
                lines.append(parse(number, fields))
            else:
                others.add(fields[a])
        return journal, lines, others

    def _other_account(self, raw: bytes) -> str:
        """The line's account when it is plainly not a receivable one, else ""."""
        if self.fmt.quoted:
            return ""
        account = raw.split(self.delimiter, self.a + 1)[self.a]
        if not account.isalnum():  # padded, empty or not ASCII: read it whole
            return ""
        text = account.decode("ascii")
        return "" if text.startswith(self.receivable) else text
