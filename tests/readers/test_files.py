from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from sageconnect.errors import SourceUnavailable
from sageconnect.model.records import Reject
from sageconnect.readers.files import read_rows, sniff

HEAD = ["JournalCode", "EcritureNum", "CompAuxLib", "Debit"]
ROW = ["VE", "1", "Société Générale d'Électricité", "1234,56"]


def write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "x.txt"
    path.write_bytes(data)
    return path


def encoded(sep: str, newline: str, encoding: str, *, bom: bool = False) -> bytes:
    text = newline.join([sep.join(HEAD), sep.join(ROW), sep.join(ROW)]) + newline
    return (codecs.BOM_UTF8 if bom else b"") + text.encode(encoding)


@pytest.mark.parametrize("sep", ["\t", "|"])
@pytest.mark.parametrize("newline", ["\r\n", "\n", "\r\r\n", "\r"])
@pytest.mark.parametrize(
    ("encoding", "bom"), [("utf-8", True), ("utf-8", False), ("iso-8859-15", False)]
)
def test_every_legal_fec_layout_reads_the_same(
    tmp_path: Path, sep: str, newline: str, encoding: str, *, bom: bool
) -> None:
    """TAB or |, any line end, UTF-8 with or without BOM or Latin-9: same rows, same text."""
    path = write(tmp_path, encoded(sep, newline, encoding, bom=bom))
    fmt = sniff(path)
    assert fmt.header == tuple(HEAD)
    assert list(read_rows(path, fmt)) == [(2, ROW), (3, ROW)]


def test_padded_fields_and_trailing_separator_are_trimmed(tmp_path: Path) -> None:
    """Fixed-width exports pad fields and end lines with a separator; both are ignored."""
    data = b"JournalCode |EcritureNum|Debit        |\nVE          |1          |0000000074,70|\n"
    path = write(tmp_path, data)
    fmt = sniff(path)
    assert fmt.header == ("JournalCode", "EcritureNum", "Debit")
    assert list(read_rows(path, fmt)) == [(2, ["VE", "1", "0000000074,70"])]


def test_bad_rows_are_set_aside_with_line_and_field(tmp_path: Path) -> None:
    """A short row and an undecodable byte are Rejects naming line and field; the rest reads."""
    good = "|".join(ROW).encode()
    data = b"\n".join(
        [
            "|".join(HEAD).encode(),
            good,
            b"VE|2|short",
            b"VE|3|Caf\xff\xfe|1,00",
            good,
            b"",
            b"",
        ]
    )
    path = write(tmp_path, data)
    rows = list(read_rows(path, sniff(path)))
    assert rows[0] == (2, ROW)
    assert rows[-1] == (5, ROW)
    short, undecodable = rows[1], rows[2]
    assert isinstance(short, Reject)
    assert (short.line, short.field) == (3, "Debit")
    assert "missing column" in short.reason
    assert isinstance(undecodable, Reject)
    assert (undecodable.line, undecodable.field) == (4, "CompAuxLib")
    assert len(rows) == 4


def test_a_missing_file_is_unavailable(tmp_path: Path) -> None:
    """A file that is not there is one clear error, not an empty import."""
    with pytest.raises(SourceUnavailable, match="No such file"):
        sniff(tmp_path / "absent.txt")


def test_a_file_without_separator_is_unavailable(tmp_path: Path) -> None:
    """A header with no TAB, | or ; cannot be a FEC."""
    path = write(tmp_path, b"just some text\nmore\n")
    with pytest.raises(SourceUnavailable, match="separator"):
        sniff(path)


def test_a_file_with_no_valid_utf8_accents_reads_as_latin9(tmp_path: Path) -> None:
    """When no accented line is valid UTF-8, the file is ISO-8859-15, the FEC's other charset."""
    path = write(tmp_path, encoded("|", "\n", "iso-8859-15"))
    fmt = sniff(path)
    assert fmt.encoding == "iso-8859-15"
    assert next(read_rows(path, fmt)) == (2, ROW)


def test_windows_text_is_read_as_cp1252(tmp_path: Path) -> None:
    """Bytes 0x80-0x9F mark cp1252: "Bœuf d’Or" keeps its œ and apostrophe."""
    row = ["VE", "1", "Bœuf d’Or", "1,00"]
    data = ("|".join(HEAD) + "\r\n" + "|".join(row) + "\r\n").encode("cp1252")
    path = write(tmp_path, data)
    fmt = sniff(path)
    assert fmt.encoding == "cp1252"
    assert list(read_rows(path, fmt)) == [(2, row)]


def test_accents_far_into_a_large_file_decide_its_charset(tmp_path: Path) -> None:
    """A Latin-9 file whose first megabytes are plain ASCII is still read as Latin-9."""
    ascii_row = "VE|1|Plain name|1,00"
    accented = "VE|2|Hélène|7,00"
    lines = ["|".join(HEAD), *([ascii_row] * 200_000), accented]
    path = write(tmp_path, ("\n".join(lines) + "\n").encode("iso-8859-15"))
    fmt = sniff(path)
    assert fmt.encoding == "iso-8859-15"
    assert list(read_rows(path, fmt))[-1] == (len(lines), ["VE", "2", "Hélène", "7,00"])


def test_a_line_holding_only_a_byte_order_mark_is_set_aside(tmp_path: Path) -> None:
    """A BOM left in the middle of a UTF-8 file (two exports pasted together)
    decodes to nothing: that line is a Reject at its number, the rest reads."""
    good = "|".join(ROW).encode()
    data = b"\n".join(
        [codecs.BOM_UTF8 + "|".join(HEAD).encode(), good, codecs.BOM_UTF8, good, b""]
    )
    path = write(tmp_path, data)
    rows = list(read_rows(path, sniff(path)))
    assert rows[0] == (2, ROW)
    assert rows[2] == (4, ROW)
    assert isinstance(rows[1], Reject)
    assert rows[1].line == 3
    assert "missing column" in rows[1].reason
    assert len(rows) == 3


def test_a_bare_carriage_return_in_a_quoted_csv_line_is_set_aside(
    tmp_path: Path,
) -> None:
    """In quoted CSV (EBP's export) a CR outside quotes cannot be split: that line is
    a Reject naming its line and field, the lines around it read on."""
    data = b'a,b,c\n"1","x","y"\n"2",x\ry,"z"\n"3","u\rv","w"\n'
    path = write(tmp_path, data)
    fmt = sniff(path, delimiter=",", quoted=True)
    rows = list(read_rows(path, fmt))
    assert rows[0] == (2, ["1", "x", "y"])
    assert isinstance(rows[1], Reject)
    assert (rows[1].line, rows[1].field) == (3, "b")
    assert "line break" in rows[1].reason
    assert rows[2] == (4, ["3", "u\rv", "w"])  # inside quotes a CR is data
    assert len(rows) == 3


def test_a_quoted_header_that_cannot_be_split_is_unavailable(tmp_path: Path) -> None:
    path = write(tmp_path, b'"a",b\rc,"d"\n"1","2","3"\n')
    with pytest.raises(SourceUnavailable, match="header line cannot be split"):
        sniff(path, delimiter=",", quoted=True)
