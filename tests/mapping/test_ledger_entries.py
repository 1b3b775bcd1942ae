"""Cutting a ledger file into entries from its bytes, and the digest of each entry."""

from __future__ import annotations

from pathlib import Path

from sageconnect.mapping.ledger_entries import Entry, entries
from sageconnect.readers.files import Splitter, sniff
from support import fec_lines

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
