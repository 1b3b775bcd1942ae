"""Cutting a ledger file into entries from its bytes, and the digest of each entry."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sageconnect.mapping.ledger_entries import Entry, entries
from sageconnect.model.records import Reject
from sageconnect.readers.files import Splitter, read_rows, sniff
from support import HEADER, fec_lines

SALE = "VE|Ventes|1|20260105|41100000|Clients|C1|Café|FA1|20260105|Facture|1200,00|0,00|||20260105||"
SALE_COUNTER = "VE|Ventes|1|20260105|70600000|Ventes|||FA1|20260105|Facture|0,00|1200,00|||20260105||"
PAY = "BQ|Banque|2|20260210|41100000|Clients|C1|Café|R1|20260210|Virement|0,00|1200,00|||20260210||"


def _entries(tmp_path: Path, *rows: str, encoding: str = "utf-8") -> list[Entry]:
    path = tmp_path / "900FEC20261231.txt"
    path.write_bytes(fec_lines(*rows).encode(encoding))
    fmt = sniff(path)
    return list(entries(path, fmt, Splitter(str(path), fmt), (0, 2)))


def _numbers(found: list[Entry]) -> list[list[int]]:
    return [e.numbers for e in found]


def test_lines_of_one_entry_group_whatever_their_padding(tmp_path: Path) -> None:
    """Journal and entry fields are compared stripped, as the row reader sees them."""
    padded = SALE_COUNTER.replace("VE|Ventes|1|", "VE |Ventes| 1|")
    found = _entries(tmp_path, SALE, padded, PAY)
    assert _numbers(found) == [[2, 3], [4]]


def test_a_line_of_the_wrong_width_stands_alone_and_the_entry_goes_on(
    tmp_path: Path,
) -> None:
    """A short line is a loose entry of its own; the lines around it stay one entry."""
    short = "VE|Ventes|1|20260105|70600000"
    found = _entries(tmp_path, SALE, short, SALE_COUNTER, PAY)
    assert _numbers(found) == [[3], [2, 4], [5]]
    assert [e.loose for e in found] == [True, False, False]


def test_an_undecodable_line_stands_alone(tmp_path: Path) -> None:
    """Bytes that are not in the file's encoding make a loose entry, not a new one."""
    path = tmp_path / "900FEC20261231.txt"
    bad = SALE_COUNTER.encode().replace(b"Ventes|||", b"Ventes\xff|||")
    path.write_bytes(
        fec_lines(SALE, "", PAY).encode().replace(b"\n\n", b"\n" + bad + b"\n")
    )
    fmt = sniff(path)
    found = list(entries(path, fmt, Splitter(str(path), fmt), (0, 2)))
    assert [(e.loose, e.numbers) for e in found] == [
        (True, [3]),
        (False, [2]),
        (False, [4]),
    ]


def test_the_digest_follows_every_byte_and_the_salt(tmp_path: Path) -> None:
    """Same lines and salt, same digest; one byte or the salt changed, another one."""
    (first,) = _entries(tmp_path, SALE, SALE_COUNTER)[:1]
    (again,) = _entries(tmp_path, SALE, SALE_COUNTER)[:1]
    (edited,) = _entries(tmp_path, SALE.replace("Facture", "Facturé"), SALE_COUNTER)
    assert first.digest(b"a") == again.digest(b"a") != 0
    assert first.digest(b"a") != edited.digest(b"a")
    assert first.digest(b"a") != first.digest(b"b")


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
    """Cut from bytes, entries are what reading row by row gives: runs of
    contiguous rows whose stripped journal and entry agree (whatever else the
    lines hold), each unreadable line alone, without breaking the run around it;
    each entry holds its lines' bytes."""
    path = tmp_path_factory.mktemp("fec") / "900FEC20261231.txt"
    path.write_bytes(b"\n".join([HEADER.encode(), *lines]) + b"\n")
    fmt = sniff(path, encoding="utf-8")
    expected: list[tuple[bool, str, list[int]]] = []
    run: tuple[str, str] | None = None
    for row in read_rows(path, fmt):
        if isinstance(row, Reject):
            assert row.line is not None  # a file's reject says its line
            expected.append((True, "", [row.line]))
            continue
        number, fields = row
        if (fields[0], fields[2]) != run:
            run = (fields[0], fields[2])
            expected.append((False, fields[0], []))
        (*_, last) = (i for i, e in enumerate(expected) if not e[0])
        expected[last][2].append(number)
    found = list(entries(path, fmt, Splitter(str(path), fmt), (0, 2)))
    raw = [b"", *path.read_bytes().split(b"\n")]
    got = [(e.loose, e.journal, e.numbers) for e in found]
    # a loose line comes as it is met, the run around it when the run ends
    assert sorted(got, key=lambda e: e[2][0]) == expected
    assert [e for e in got if not e[0]] == [e for e in expected if not e[0]]
    assert all(e.raws == [raw[n] for n in e.numbers] for e in found)
