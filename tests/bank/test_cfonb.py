from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sageconnect.bank.cfonb import parse_cfonb_amount, read_cfonb120
from sageconnect.bank.lines import BankLine, clean
from sageconnect.model.records import Reject

NOV20 = dt.date(2026, 11, 20)


def read(path: Path) -> list[BankLine | Reject]:
    return list(read_cfonb120(path))


def sample_records(samples: Path) -> list[str]:
    """The hand-written sample, one 120-character record per item."""
    return samples.joinpath("sample.cfonb").read_bytes().decode("latin-1").splitlines()


def write(folder: Path, text: str, name: str = "releve.cfonb") -> Path:
    path = folder / name
    path.write_bytes(text.encode("latin-1"))
    return path


def lines_only(items: list[BankLine | Reject]) -> list[BankLine]:
    lines = [item for item in items if isinstance(item, BankLine)]
    assert len(lines) == len(items), [str(i) for i in items if isinstance(i, Reject)]
    return lines


def test_the_hand_written_sample_reads_as_a_bank_clerk_would(samples: Path) -> None:
    """Three movements: amounts signed with their decimals, dates, payer, texts, refs."""
    dupont, edf, martin = lines_only(read(samples / "sample.cfonb"))

    assert dupont.line == 2
    assert dupont.source == "sample.cfonb"
    assert dupont.account == "00012345678"
    assert dupont.amount == Decimal("1234.56")
    assert str(dupont.amount) == "1234.56"
    assert dupont.currency == "EUR"
    assert dupont.booked == NOV20
    assert dupont.value_date == NOV20
    assert dupont.payer_name == "SARL DUPONT FRÈRES"  # Latin-1 È
    assert dupont.payer_account == "FR7630006000011234567890189"
    assert dupont.remittance == "FACTURE FA-2026-0142 ET FA-2026-0150"
    assert dupont.structured_ref == ""
    assert dupont.end_to_end_id == "E2E-DUPONT-0142"  # the purpose code is left out
    assert dupont.bank_ref == "0012345"
    assert dupont.label == "VIR SEPA RECU /DE SARL DUPONT"
    assert dupont.booked_status == "BOOK"
    assert dupont.is_credit

    assert edf.line == 7
    assert edf.amount == Decimal("-92.00")  # "}" overpunch: negative, last digit 0
    assert edf.label == "PRLV SEPA EDF ENTREPRISES"
    assert edf.bank_ref == "0012346"
    assert (edf.payer_name, edf.remittance, edf.end_to_end_id) == ("", "", "")
    assert not edf.is_credit

    assert martin.line == 8
    assert martin.amount == Decimal("484.38")  # "H": positive, last digit 8
    assert martin.booked == NOV20
    assert martin.value_date == dt.date(2026, 11, 21)
    assert martin.payer_name == "MARTIN ET FILS SAS"
    assert martin.remittance == "REGLEMENT NOVEMBRE"
    assert martin.structured_ref == "RF18539007547034"
    assert martin.payer_account == ""


def test_keys_are_stable_and_distinct(samples: Path, tmp_path: Path) -> None:
    """The same statement delivered again, under another name, gives the same keys."""
    first = lines_only(read(samples / "sample.cfonb"))
    again = write(tmp_path, "\r\n".join(sample_records(samples)), "copy-2026-11-21.txt")
    second = lines_only(read(again))
    assert [line.key for line in first] == [line.key for line in second]
    assert len({line.key for line in first}) == 3
    assert all(len(line.key) == 20 for line in first)


def test_identical_movements_in_one_statement_get_their_own_keys(
    samples: Path, tmp_path: Path
) -> None:
    """Two identical 04 records are two movements, with stable distinct keys."""
    records = sample_records(samples)
    text = "\n".join([*records[:7], records[6], *records[7:]])
    lines = lines_only(read(write(tmp_path, text)))
    assert [line.amount for line in lines] == [
        Decimal("1234.56"),
        Decimal("-92.00"),
        Decimal("-92.00"),
        Decimal("484.38"),
    ]
    assert len({line.key for line in lines}) == 4
    assert [line.key for line in lines] == [
        line.key for line in lines_only(read(write(tmp_path, text, "again.cfonb")))
    ]


@pytest.mark.parametrize("newline", ["\r\n", "\n", ""])
def test_line_ends_or_none_read_the_same(
    samples: Path, tmp_path: Path, newline: str
) -> None:
    """CR LF, LF, or records glued together without line ends: same movements."""
    expected = lines_only(read(samples / "sample.cfonb"))
    path = write(
        tmp_path, newline.join(sample_records(samples)) + newline, "sample.cfonb"
    )
    assert read(path) == expected


def test_a_glued_file_not_made_of_whole_records_is_refused(
    samples: Path, tmp_path: Path
) -> None:
    """Without line ends, a length that is not a multiple of 120 is one Reject."""
    text = "".join(sample_records(samples))[:-7]
    (reject,) = read(write(tmp_path, text))
    assert isinstance(reject, Reject)
    assert reject.where == "releve.cfonb"
    assert reject.field == "length"
    assert reject.value == str(12 * 120 - 7)
    assert "120" in reject.reason


def test_trailing_blanks_trimmed_by_an_editor_are_tolerated(
    samples: Path, tmp_path: Path
) -> None:
    """Records that lost their trailing blanks still read, padded back to 120."""
    text = "\n".join(record.rstrip() for record in sample_records(samples))
    path = write(tmp_path, text, "sample.cfonb")
    assert read(path) == lines_only(read(samples / "sample.cfonb"))


def test_malformed_records_are_set_aside_and_the_rest_reads(
    samples: Path, tmp_path: Path
) -> None:
    """Each bad record is a Reject naming line and field; good movements come through."""
    records = sample_records(samples)
    bad_amount = records[1][:90] + "00000000123X5F" + records[1][104:]
    bad_date = records[7][:34] + "311126" + records[7][40:]
    orphan = records[2]  # an 05 right after the 01
    unknown = "09" + records[6][2:]
    too_long = records[6] + "XYZ"
    text = "\r\n".join(
        [
            records[0],
            orphan,  # line 2
            bad_amount,  # line 3, its 05s (lines 4-7) go with it
            *records[2:6],
            unknown,  # line 8
            records[6],  # line 9: the debit, fine
            too_long,  # line 10
            bad_date,  # line 11, its 05s (12-14) go with it
            *records[8:11],
            records[11],
        ]
    )
    items = read(write(tmp_path, text))
    rejects = [item for item in items if isinstance(item, Reject)]
    lines = [item for item in items if isinstance(item, BankLine)]
    assert [(r.line, r.field) for r in rejects] == [
        (2, "record"),
        (3, "amount"),
        (8, "record_code"),
        (10, "length"),
        (11, "booked"),
    ]
    assert all(r.where == "releve.cfonb" for r in rejects)
    orphan_reject, amount_reject, code_reject, length_reject, date_reject = rejects
    assert "no 04" in orphan_reject.reason
    assert amount_reject.value == "00000000123X5F"
    assert "13 digits" in amount_reject.reason
    assert code_reject.value == "09"
    assert "123 characters" in length_reject.reason
    assert date_reject.value == "311126"
    assert "JJMMAA" in date_reject.reason
    (debit,) = lines
    assert (debit.line, debit.amount, debit.label) == (
        9,
        Decimal("-92.00"),
        "PRLV SEPA EDF ENTREPRISES",
    )


def test_a_bad_05_is_set_aside_and_its_movement_kept(
    samples: Path, tmp_path: Path
) -> None:
    """A complement that is too long is a Reject; its 04 and other 05s still count."""
    records = sample_records(samples)
    text = "\n".join([*records[:3], records[3] + "!", *records[4:]])
    items = read(write(tmp_path, text))
    (reject,) = [item for item in items if isinstance(item, Reject)]
    assert (reject.line, reject.field) == (4, "length")
    dupont, _edf, _martin = [item for item in items if isinstance(item, BankLine)]
    assert dupont.payer_name == "SARL DUPONT FRÈRES"
    assert dupont.remittance == ""  # the LCC was the bad record
    assert dupont.end_to_end_id == "E2E-DUPONT-0142"


def test_blank_decimals_mean_two_and_blank_currency_means_euro(
    samples: Path, tmp_path: Path
) -> None:
    """Position 20 blank counts as 2 decimals, positions 17-19 blank as EUR."""
    record = sample_records(samples)[6]
    blank = record[:16] + "    " + record[20:]
    zero_decimals = record[:19] + "0" + record[20:]
    three_decimals = record[:16] + "TND3" + record[20:]
    text = f"{blank}\n{zero_decimals}\n{three_decimals}"
    first, second, third = lines_only(read(write(tmp_path, text)))
    assert (first.amount, first.currency) == (Decimal("-92.00"), "EUR")
    assert str(second.amount) == "-9200.00"
    assert (str(third.amount), third.currency) == ("-9.200", "TND")


@pytest.mark.parametrize(
    ("zone", "decimals", "expected"),
    [
        ("0000000004843H", 2, "484.38"),
        ("0000000000920}", 2, "-92.00"),
        ("0000000000920}", 1, "-920.00"),
        ("0000000000920}", 3, "-9.200"),
        ("0000000000000{", 2, "0.00"),
        ("0000000000001J", 2, "-0.11"),
        ("0000000000001R", 2, "-0.19"),
        ("9999999999999I", 2, "999999999999.99"),
    ],
)
def test_overpunched_amounts(zone: str, decimals: int, expected: str) -> None:
    """The last character carries the last digit and the sign."""
    assert str(parse_cfonb_amount(zone, decimals)) == expected


@pytest.mark.parametrize(
    "zone", ["00000000049200", "0000000004843", "00000000 4843H", "000000000²843H"]
)
def test_amounts_that_are_not_cfonb_are_refused(zone: str) -> None:
    """A plain last digit, a short zone, a blank or a non-ASCII digit: no guess."""
    with pytest.raises(ValueError, match=r"\w"):
        parse_cfonb_amount(zone, 2)


def complement(samples: Path, qualifier: str, info: str) -> str:
    """A 05 record of the sample's first movement with this qualifier and text."""
    return sample_records(samples)[2][:45] + qualifier + info.ljust(70) + "  "


def test_an_lc2_goes_on_with_the_lcc_it_follows(samples: Path, tmp_path: Path) -> None:
    """Banks cut the 140-character SEPA text at 70, even inside a word."""
    records = sample_records(samples)
    full = "PAIEMENT DES FACTURES FA-2026-0142 FA-2026-0150 ET FA-2026-0151 AV-2026-0009 DEDUIT"
    assert full[64:76] == "AV-2026-0009"  # the cut at 70 falls inside this number
    lcc = complement(samples, "LCC", full[:70])
    lc2 = complement(samples, "LC2", full[70:])
    text = "\n".join([*records[:2], lcc, lc2, records[11]])
    (line,) = lines_only(read(write(tmp_path, text)))
    assert line.remittance == full


def test_separate_texts_are_joined_by_a_space(samples: Path, tmp_path: Path) -> None:
    """LIB lines, or an LCC shorter than its zone, are separate texts."""
    records = sample_records(samples)
    texts = [
        complement(samples, "LIB", "REGLEMENT"),
        complement(samples, "LC2", "FACTURE"),  # after a LIB: not a continuation
        complement(samples, "LCC", "FA-2026-0001"),
        complement(samples, "LC2", "FA-2026-0002"),
    ]
    (line,) = lines_only(read(write(tmp_path, "\n".join([*records[:2], *texts]))))
    assert line.remittance == "REGLEMENT FACTURE FA-2026-0001 FA-2026-0002"


def test_notprovided_end_to_end_id_is_empty(samples: Path, tmp_path: Path) -> None:
    """SEPA's NOTPROVIDED placeholder is no end-to-end id."""
    records = sample_records(samples)
    rcn = complement(samples, "RCN", "NOTPROVIDED")
    (line,) = lines_only(read(write(tmp_path, "\n".join([*records[:2], rcn]))))
    assert line.end_to_end_id == ""


# ---------------------------------------------------------------- round trip

latin1 = st.characters(codec="latin-1").filter(str.isprintable)


def text(max_size: int) -> st.SearchStrategy[str]:
    return st.text(latin1, max_size=max_size)


movements = st.fixed_dictionaries(
    {
        "booked": st.dates(dt.date(2000, 1, 1), dt.date(2099, 12, 31)),
        "amount": st.decimals(
            min_value=Decimal("-99999999.99"),
            max_value=Decimal("99999999.99"),
            places=2,
        ),
        "payer_name": text(70),
        "payer_iban": st.from_regex(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{0,30}", fullmatch=True)
        | st.just(""),
        "remittance": text(140),
        "structured_ref": text(35),
        "end_to_end_id": text(35).filter(lambda s: clean(s) != "NOTPROVIDED"),
        "label": text(31),
        "bank_ref": text(7),
    }
)


@settings(max_examples=60, deadline=None)
@given(
    drawn=st.lists(movements, max_size=6),
    newline=st.sampled_from(["\r\n", "\n", ""]),
)
def test_writer_then_reader_gives_back_every_movement(
    build: Any,
    tmp_path_factory: pytest.TempPathFactory,
    drawn: list[dict[str, Any]],
    newline: str,
) -> None:
    """What fixtures/bank/build.py writes reads back field for field, keys distinct."""
    moves = [build.Movement(**fields) for fields in drawn]
    statement = build.cfonb120("00012345678", moves, day=NOV20, newline=newline)
    path = write(tmp_path_factory.mktemp("cfonb"), statement)
    lines = lines_only(read(path))
    assert len(lines) == len(moves)
    assert len({line.key for line in lines}) == len(lines)
    for number, (move, line) in enumerate(zip(moves, lines, strict=True), start=1):
        assert line.amount == move.amount
        assert line.booked == line.value_date == move.booked
        assert line.account == "00012345678"
        assert line.payer_name == clean(move.payer_name)
        assert line.payer_account == move.payer_iban
        assert line.remittance == clean(move.remittance)
        assert line.structured_ref == clean(move.structured_ref)
        assert line.end_to_end_id == clean(move.end_to_end_id)
        assert line.label == clean(move.label_or_default()[:31])
        assert line.bank_ref == clean(move.bank_ref or f"{number:07d}")


def test_a_byte_order_mark_means_utf8(samples: Path, tmp_path: Path) -> None:
    """A file saved by a Windows editor as UTF-8 with BOM reads the same."""
    text = "\r\n".join(sample_records(samples))
    path = tmp_path / "sample.cfonb"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert read(path) == lines_only(read(samples / "sample.cfonb"))
