"""Cutting a ledger file into entries from its bytes, and the digest of each entry."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sageconnect.mapping.ledger_entries import Entry, EntryParser, entries
from sageconnect.mapping.registry import load_file
from sageconnect.model.records import Reject
from sageconnect.readers.files import FileFormat, Splitter, read_rows, sniff
from support import HEADER, ROOT, fec_lines

SALE = "VE|Ventes|1|20260105|41100000|Clients|C1|Café|FA1|20260105|Facture|1200,00|0,00|||20260105||"
SALE_COUNTER = "VE|Ventes|1|20260105|70600000|Ventes|||FA1|20260105|Facture|0,00|1200,00|||20260105||"
PAY = "BQ|Banque|2|20260210|41100000|Clients|C1|Café|R1|20260210|Virement|0,00|1200,00|||20260210||"


def _entries(
    tmp_path: Path, *rows: str, encoding: str = "utf-8", salt: bytes | None = None
) -> list[Entry]:
    path = tmp_path / "900FEC20261231.txt"
    path.write_bytes(fec_lines(*rows).encode(encoding))
    fmt = sniff(path)
    return list(entries(path, fmt, Splitter(str(path), fmt), (0, 2), salt=salt))


def _numbers(found: list[Entry]) -> list[list[int]]:
    return [e.numbers for e in found]


def _parser(path: Path, fmt: FileFormat | None = None) -> EntryParser:
    spec = load_file(ROOT / "mappings" / "fec.toml")
    return EntryParser(path, fmt or sniff(path), spec, ("411",), "2026")


def test_lines_of_one_entry_group_whatever_their_padding(tmp_path: Path) -> None:
    """Journal and entry fields are compared stripped, as the row reader sees them."""
    padded = SALE_COUNTER.replace("VE|Ventes|1|", "VE |Ventes| 1|")
    found = _entries(tmp_path, SALE, padded, PAY)
    assert _numbers(found) == [[2, 3], [4]]


def test_a_line_of_the_wrong_width_stands_alone_and_the_entry_goes_on(
    tmp_path: Path,
) -> None:
    """A short line that does not start as its neighbour does is a loose entry
    of its own; the lines around it stay one entry."""
    short = "VE|Ventes|2|20260105|70600000"
    found = _entries(tmp_path, SALE, short, SALE_COUNTER, PAY)
    assert _numbers(found) == [[3], [2, 4], [5]]
    assert [e.loose for e in found] == [True, False, False]


def test_an_unreadable_line_inside_an_entry_is_set_aside_when_it_is_read(
    tmp_path: Path,
) -> None:
    """A line that starts with its entry's bytes up to the entry number joins
    the entry unchecked; reading the entry sets it aside with its line and
    reason, as reading row by row would, and reads the rest as without it."""
    short = "VE|Ventes|1|20260105|70600000"
    found = _entries(tmp_path, SALE, short, SALE_COUNTER, PAY)
    assert _numbers(found) == [[2, 3, 4], [5]]
    path = tmp_path / "900FEC20261231.txt"
    parse = _parser(path)
    journal, lines, others = parse(found[0])
    rejects = [line for line in lines if isinstance(line, Reject)]
    assert [(r.line, r.field) for r in rejects] == [(3, "CompteLib")]
    assert "missing column" in rejects[0].reason
    kept = [line for line in lines if not isinstance(line, Reject)]
    assert [line.line for line in kept] == [2]
    assert (journal, others) == ("VE", {"70600000"})


def test_an_undecodable_line_stands_alone_or_is_set_aside(tmp_path: Path) -> None:
    """Bytes that are not in the file's encoding: in the key fields, the line is
    a loose entry, not a new one; elsewhere in a line of the entry, the entry's
    reading sets it aside (a counterpart line too, not taken for one)."""
    path = tmp_path / "900FEC20261231.txt"
    bad_label = SALE_COUNTER.encode().replace(b"Ventes|||", b"Ventes\xff|||")
    bad_key = SALE_COUNTER.encode().replace(b"VE|Ventes|1|", b"VE|Ventes|\xff1|")
    lines = fec_lines(SALE, "", "", PAY).encode().split(b"\n")
    lines[2:4] = [bad_key, bad_label]
    path.write_bytes(b"\n".join(lines))
    fmt = sniff(path, encoding="utf-8")
    found = list(entries(path, fmt, Splitter(str(path), fmt), (0, 2)))
    assert [(e.loose, e.numbers) for e in found] == [
        (True, [3]),
        (False, [2, 4]),
        (False, [5]),
    ]
    _, parsed, others = _parser(path)(found[1])
    assert [(r.line, r.field) for r in parsed if isinstance(r, Reject)] == [
        (4, "CompteLib")
    ]
    assert others == set()


def test_the_digest_follows_every_byte_and_the_salt(tmp_path: Path) -> None:
    """Same lines and salt, same digest; one byte or the salt changed, another one."""
    (first,) = _entries(tmp_path, SALE, SALE_COUNTER, salt=b"a")
    (again,) = _entries(tmp_path, SALE, SALE_COUNTER, salt=b"a")
    (edited,) = _entries(
        tmp_path, SALE.replace("Facture", "Facturé"), SALE_COUNTER, salt=b"a"
    )
    (other,) = _entries(tmp_path, SALE, SALE_COUNTER, salt=b"b")
    assert first.digest == again.digest
    assert first.digest not in (None, 0)
    assert first.digest != edited.digest
    assert first.digest != other.digest


def test_entries_known_by_digest_are_not_given(tmp_path: Path) -> None:
    """With the digests a store holds, only the other entries come."""
    rows = (SALE, SALE_COUNTER, PAY)
    every = _entries(tmp_path, *rows, salt=b"a")
    path = tmp_path / "900FEC20261231.txt"
    fmt = sniff(path)
    held = {every[0].digest}
    rest = list(
        entries(
            path,
            fmt,
            Splitter(str(path), fmt),
            (0, 2),
            salt=b"a",
            known=held.__contains__,
        )
    )
    assert [(e.numbers, e.digest) for e in rest] == [
        (every[1].numbers, every[1].digest)
    ]


_JOURNALS = ("VE", " VE", "BQ")
_LIBS = ("Ventes", "Vtes", "")
_NUMBERS = ("1", " 1", "1 ", "2", "10")
_TAILS = (
    "20260105|41100000|Clients|C1|Café|FA1|20260105|Facture|1200,00|0,00|||20260105||",
    "20260105|70600000|Ventes|||FA1|20260105|Facture|0,00|1200,00|||20260105||",
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.tuples(
                st.sampled_from(_JOURNALS),
                st.sampled_from(_LIBS),
                st.sampled_from(_NUMBERS),
                st.sampled_from(_TAILS),
                st.sampled_from(("", "", "||")),  # empty fields past the header's
            ).map(lambda t: ("|".join(t[:4]) + t[4]).encode()),
            st.sampled_from(
                [
                    b"VE|Ventes|1|short",
                    b"VE|Ventes|1|"
                    + _TAILS[0].encode().replace(b"Caf\xc3\xa9", b"Caf\xe9"),
                    b"",
                    b"   ",
                ]
            ),
        ),
        max_size=30,
    )
)
def test_entries_are_the_runs_of_rows_sharing_journal_and_entry(
    tmp_path_factory: pytest.TempPathFactory, lines: list[bytes]
) -> None:
    """Cut from bytes, entries are what reading row by row gives: every line
    in exactly one entry; the readable rows of an entry share their stripped
    journal and entry (whatever else the lines hold), and two entries in a row
    do not, so a run of such rows is one entry; an unreadable line is either
    alone (a loose entry) or inside an entry, where reading it sets it aside,
    once; entries come in file order, each a contiguous run but for the loose
    lines among it; each entry holds its lines' bytes."""
    path = tmp_path_factory.mktemp("fec") / "900FEC20261231.txt"
    path.write_bytes(b"\n".join([HEADER.encode(), *lines]) + b"\n")
    fmt = sniff(path, encoding="utf-8")
    rows: dict[int, tuple[str, str] | None] = {}  # line: key, None if unreadable
    for row in read_rows(path, fmt):
        if isinstance(row, Reject):
            assert row.line is not None  # a file's reject says its line
            rows[row.line] = None
        else:
            rows[row[0]] = (row[1][0], row[1][2])
    found = list(entries(path, fmt, Splitter(str(path), fmt), (0, 2)))
    assert sorted(n for e in found for n in e.numbers) == sorted(rows)
    raw = [b"", *path.read_bytes().split(b"\n")]
    assert all(e.raws == [raw[n] for n in e.numbers] for e in found)
    firsts = [e.numbers[0] for e in found if not e.loose]
    assert firsts == sorted(firsts)  # in file order
    loose = {e.numbers[0] for e in found if e.loose}
    for entry in found:  # contiguous, but for loose lines among its own
        between = set(range(entry.numbers[0], entry.numbers[-1] + 1))
        assert (between - set(entry.numbers)) & set(rows) <= loose  # blanks aside
    parse = _parser(path, fmt)  # reading the entries sets the unreadable aside
    set_aside = [r.line for e in found for r in parse(e)[1] if isinstance(r, Reject)]
    assert len(set_aside) == len(set(set_aside))  # once each
    assert set(set_aside) == {n for n, key in rows.items() if key is None}
    last: tuple[str, str] | None = None
    for entry in found:
        assert entry.numbers == sorted(entry.numbers)
        if entry.loose:
            assert len(entry.numbers) == 1
            assert rows[entry.numbers[0]] is None
            continue
        keys = {rows[n] for n in entry.numbers} - {None}
        assert len(keys) == 1  # an entry has a readable row, of one key
        (key,) = keys
        assert key is not None
        assert entry.journal == key[0]
        assert key != last  # else the two would be one run
        last = key
