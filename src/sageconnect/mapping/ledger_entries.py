"""A ledger file cut into entries straight from its bytes, each with a digest.

An entry is the run of contiguous lines sharing a journal and an entry number:
the unit a ledger mapper turns into records. Its digest (the bytes of its
lines, salted with everything else its records depend on: mapping, settings,
version, file, and the file's header, separator and encoding) lets a later
read skip an entry that has not changed without decoding or parsing it. A line
that cannot be read (wrong width, bytes not in the file's encoding) is set
aside as it is when the file is read row by row, and the entry around it goes
on: alone where the cut meets it, or inside its entry, where the parser meets
it (the entry is then read again on every read, as its reject is reported).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from hashlib import blake2b
from pathlib import Path
from typing import TypeVar

from xxhash import xxh3_64_intdigest

from sageconnect.mapping.ledger_line import Columns, LineCents, LineParser
from sageconnect.mapping.spec import MappingSpec
from sageconnect.model.records import Reject
from sageconnect.readers.files import FileFormat, Row, Splitter, data_lines


@dataclass(slots=True)
class Entry:
    """Contiguous lines of one entry, or one loose line: physical numbers, bytes."""

    numbers: list[int]
    raws: list[bytes]
    loose: bool = False
    journal: str = ""  # as its first line states it, stripped
    digest: int | None = None  # of the salt and its lines, when a salt was given


_HALF = 1 << 63  # digests are signed 64-bit integers, as the store keeps them


def entries(
    path: Path,
    fmt: FileFormat,
    split: Splitter,
    keys: tuple[int, int],
    *,
    salt: bytes | None = None,
    known: Callable[[int], bool] | None = None,
) -> Iterator[Entry]:
    """The file's entries in file order; ``keys`` are the journal and entry columns.

    Lines are grouped on their stripped journal and entry fields, as decoded
    text; the bytes of those fields are compared first, so a line is decoded
    only where its fields' bytes change. Cheaper still, the common case: a line
    that starts with the same bytes as the entry's last line up to the
    delimiter after both key fields belongs to that entry, unchecked (the
    parser checks every line of an entry it reads, see :class:`EntryParser`).
    Any other line is checked here: one that cannot be read stands alone.

    With a ``salt``, each entry (not a loose line) comes with its digest, a
    signed 64-bit digest of the salt and its lines' bytes, never 0; with
    ``known`` too, an entry whose digest it knows is not given at all.
    """
    j, e = keys
    cut = max(j, e) + 1
    delimiter = fmt.delimiter.encode("ascii")
    separators = len(fmt.header) - 1
    with_prefix = cut <= separators  # else a key field ends the line: no prefix
    encoding, readable = fmt.encoding, _readable(fmt)
    ended = _Ends(salt, known)
    raw_key: bytes | None = None
    prefix = b""  # the last line's bytes up to the delimiter after the key fields
    key: tuple[str, str] | None = None
    numbers: list[int] = []
    raws: list[bytes] = []

    for number, raw in data_lines(path, fmt):
        if prefix and raw.startswith(prefix):  # same key fields, byte for byte
            numbers.append(number)
            raws.append(raw)
            continue
        if not readable(raw):
            row = split(number, raw)
            if isinstance(row, Reject):
                yield Entry([number], [raw], loose=True)
                continue
            this_raw, this_key = None, (row[1][j], row[1][e])
            prefix = b""
        else:
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
            if numbers and key and (entry := ended(numbers, raws, key[0])):
                yield entry
            numbers, raws, key = [], [], this_key
        raw_key = this_raw
        numbers.append(number)
        raws.append(raw)
    if numbers and key and (entry := ended(numbers, raws, key[0])):
        yield entry


class _Ends:
    """An entry as it ends: with its digest when salted; None when known.

    The digest is XXH3's 64 bits (a non-cryptographic hash of SMHasher quality,
    ten times as fast as BLAKE2 on entry-sized inputs) seeded with the salt's:
    it tells an entry whose bytes changed from the one the store holds, which
    nobody has a reason to forge.
    """

    def __init__(self, salt: bytes | None, known: Callable[[int], bool] | None) -> None:
        self.seed = (
            None
            if salt is None
            else int.from_bytes(blake2b(salt, digest_size=8).digest(), "big")
        )
        self.known = known

    def __call__(
        self, numbers: list[int], raws: list[bytes], journal: str
    ) -> Entry | None:
        if self.seed is None:
            return Entry(numbers, raws, journal=journal)
        digest = xxh3_64_intdigest(b"\n".join(raws), self.seed) - _HALF or 1
        if self.known is not None and self.known(digest):
            return None
        return Entry(numbers, raws, journal=journal, digest=digest)


def _readable(fmt: FileFormat) -> Callable[[bytes], bool]:
    """Whether a line reads without the csv module: unquoted, the header's
    width, in the file's encoding."""
    delimiter = fmt.delimiter.encode("ascii")
    separators, encoding = len(fmt.header) - 1, fmt.encoding

    def readable(raw: bytes) -> bool:
        return (
            not fmt.quoted
            and raw.count(delimiter) == separators
            and (raw.isascii() or _decodes(raw, encoding))
        )

    return readable


def _decodes(raw: bytes, encoding: str) -> bool:
    try:
        raw.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


Parsed = tuple[str, list[LineCents | Reject], set[str]]
_Line = TypeVar("_Line", bytes, str)  # a line as read, or decoded


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
        self.readable = _readable(fmt)
        self.separators = len(fmt.header) - 1

    def entries(
        self, salt: bytes | None = None, known: Callable[[int], bool] | None = None
    ) -> Iterator[Entry]:
        """The file's entries (see :func:`entries`)."""
        keys = (self.j, self.e)
        return entries(self.path, self.fmt, self.split, keys, salt=salt, known=known)

    def __call__(self, entry: Entry) -> Parsed:
        if entry.loose:  # unreadable: no entry to belong to
            row = self.split(entry.numbers[0], entry.raws[0])
            return "", [row] if isinstance(row, Reject) else [], set()
        texts = self._decoded(entry.raws)
        if texts is None:  # a line that does not decode: each read from its bytes
            lines, others = self._read(
                entry.numbers, entry.raws, self._other_account, self.split
            )
        else:
            lines, others = self._read(
                entry.numbers, texts, self._other_text, self.split.fields
            )
        return entry.journal, lines, others

    def _read(
        self,
        numbers: list[int],
        lines: list[_Line],
        other: Callable[[_Line], str],
        split: Callable[[int, _Line], Row | Reject],
    ) -> tuple[list[LineCents | Reject], set[str]]:
        """The receivable lines parsed, and the other lines' accounts."""
        parsed: list[LineCents | Reject] = []
        others: set[str] = set()
        receivable, a, parse = self.receivable, self.a, self.parser.parse
        for number, line in zip(numbers, lines, strict=True):
            account = other(line)
            if account:  # the common case: a counterpart line, not split whole
                others.add(account)
                continue
            row = split(number, line)
            if isinstance(row, Reject):  # a line the cut let in unchecked
                parsed.append(row)
                continue
            fields = row[1]
            if fields[a].startswith(receivable):
                parsed.append(parse(number, fields))
            else:
                others.add(fields[a])
        return parsed, others

    def _decoded(self, raws: list[bytes]) -> list[str] | None:
        """The entry's lines decoded in one go (one call, not one a line), when
        they all decode and the file is not quoted; else None. A whole that
        decodes is lines that each decode, in the file's encodings (ASCII line
        ends; no byte of a multibyte character is ASCII)."""
        if self.fmt.quoted:
            return None
        try:
            text = b"\n".join(raws).decode(self.fmt.encoding)
        except UnicodeDecodeError:
            return None
        if "\ufeff" in text:  # a byte-order mark, which a decoder skips at a start
            return None
        texts = text.split("\n")
        return texts if len(texts) == len(raws) else None

    def _other_text(self, text: str) -> str:
        """As :meth:`_other_account`, of a line decoded."""
        if text.count(self.fmt.delimiter) != self.separators:
            return ""
        account = text.split(self.fmt.delimiter, self.a + 1)[self.a]
        if not (account.isascii() and account.isalnum()):  # padded or empty
            return ""
        return "" if account.startswith(self.receivable) else account

    def _other_account(self, raw: bytes) -> str:
        """The line's account when it is plainly not a receivable one on a line
        that reads (the header's width, the file's encoding), else ""."""
        if not self.readable(raw):
            return ""
        account = raw.split(self.delimiter, self.a + 1)[self.a]
        if not account.isalnum():  # padded, empty or not ASCII: read it whole
            return ""
        text = account.decode("ascii")
        return "" if text.startswith(self.receivable) else text
