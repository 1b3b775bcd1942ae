from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sageconnect.bank.camt import read_camt053
from sageconnect.bank.lines import BankLine, clean
from sageconnect.model.records import Reject

NOV20 = dt.date(2026, 11, 20)
IBAN = "FR7630004001230001234567891"


def read(path: Path) -> list[BankLine | Reject]:
    return list(read_camt053(path))


def lines_only(items: list[BankLine | Reject]) -> list[BankLine]:
    lines = [item for item in items if isinstance(item, BankLine)]
    assert len(lines) == len(items), [str(i) for i in items if isinstance(i, Reject)]
    return lines


def write(folder: Path, text: str, name: str = "releve.xml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def document(
    entries: str,
    *,
    version: str = "camt.053.001.02",
    message: str = "BkToCstmrStmt",
    statement: str = "Stmt",
) -> str:
    """A hand-written statement around ``entries`` (Ntry elements)."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:{version}">
  <{message}>
    <GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-11-21T06:00:00</CreDtTm></GrpHdr>
    <{statement}>
      <Id>S1</Id>
      <CreDtTm>2026-11-21T06:00:00</CreDtTm>
      <Acct><Id><IBAN>{IBAN}</IBAN></Id><Ccy>EUR</Ccy></Acct>
      {entries}
    </{statement}>
  </{message}>
</Document>
"""


def entry(
    amount: str = '<Amt Ccy="EUR">100.00</Amt>',
    sign: str = "<CdtDbtInd>CRDT</CdtDbtInd>",
    booked: str = "<BookgDt><Dt>2026-11-20</Dt></BookgDt>",
    details: str = "",
    status: str = "<Sts>BOOK</Sts>",
) -> str:
    return (
        f"<Ntry>{amount}{sign}{status}{booked}"
        "<ValDt><Dt>2026-11-20</Dt></ValDt><AcctSvcrRef>REF</AcctSvcrRef>"
        f"{details}</Ntry>"
    )


def test_the_hand_written_sample_reads_as_a_bank_clerk_would(samples: Path) -> None:
    """Single credit, a batch of two, a pending credit, a reversal and fees."""
    lines = lines_only(read(samples / "sample-camt053.xml"))
    durand, alpha, beta, gamma, delta, fees = lines

    assert durand.line == 1
    assert durand.source == "sample-camt053.xml"
    assert durand.account == IBAN
    assert durand.amount == Decimal("1500.00")
    assert str(durand.amount) == "1500.00"
    assert durand.currency == "EUR"
    assert durand.booked == durand.value_date == NOV20
    assert durand.payer_name == "Durand Électricité SARL"  # spaces collapsed
    assert durand.payer_account == "FR7610107001011234567890129"
    assert durand.remittance == "FACTURE FA-2026-0201"
    assert durand.end_to_end_id == "E2E-DURAND-0201"
    assert durand.bank_ref == "2026112000101"
    assert durand.label == "VIR SEPA RECU /DE DURAND ELECTRICITE"
    assert durand.booked_status == "BOOK"
    assert durand.is_credit

    assert (alpha.line, beta.line) == (2, 2)  # one Ntry, two TxDtls
    assert alpha.amount == Decimal("1000.00")
    assert alpha.payer_name == "ALPHA SARL"
    assert alpha.payer_account == "00098765432"  # Othr/Id, no IBAN
    assert alpha.structured_ref == "RF18539007547034"
    assert alpha.remittance == ""
    assert alpha.end_to_end_id == ""  # NOTPROVIDED
    assert alpha.bank_ref == "2026112000102-1"
    assert alpha.label == "REMISE DE VIREMENTS"
    assert alpha.value_date == dt.date(2026, 11, 21)
    assert beta.amount == Decimal("2000.00")
    assert beta.payer_name == "BETA SA"
    assert beta.remittance == "FACTURES FA-2026-0210 ET FA-2026-0211"
    assert beta.end_to_end_id == "BETA-PAY-7781"
    assert beta.label == "VIREMENT BETA SA"
    assert alpha.key != beta.key

    assert gamma.booked_status == "PDNG"
    assert gamma.booked == NOV20  # from BookgDt/DtTm
    assert gamma.value_date == dt.date(2026, 11, 23)
    assert gamma.amount == Decimal("250.00")  # the entry's amount: TxDtls has none
    assert gamma.payer_name == "GAMMA SAS"

    assert delta.reversal
    assert delta.amount == Decimal("-750.00")
    assert delta.payer_name == "DELTA INDUSTRIES"
    assert delta.remittance == "FA-2026-0190"
    assert not delta.is_credit

    assert fees.amount == Decimal("-12.50")
    assert fees.label == "FRAIS TENUE DE COMPTE"
    assert fees.payer_name == ""
    assert not fees.is_credit

    assert len({line.key for line in lines}) == 6


def test_keys_do_not_depend_on_the_file(samples: Path, tmp_path: Path) -> None:
    """The same statement delivered again under another name keeps its keys."""
    text = (samples / "sample-camt053.xml").read_text(encoding="utf-8")
    copy = write(tmp_path, text, "renamed.xml")
    first = lines_only(read(samples / "sample-camt053.xml"))
    assert [line.key for line in lines_only(read(copy))] == [line.key for line in first]


def test_newer_versions_and_notifications_read_too(tmp_path: Path) -> None:
    """camt.053.001.08 (Sts/Cd, Dbtr/Pty/Nm, TxDtls/Amt) and camt.054 notifications."""
    details = """
      <NtryDtls>
        <TxDtls>
          <Amt Ccy="EUR">40.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>
          <RltdPties><Dbtr><Pty><Nm>NEW STYLE SAS</Nm></Pty></Dbtr></RltdPties>
          <RmtInf><Ustrd>FA-2026-0300</Ustrd></RmtInf>
        </TxDtls>
        <TxDtls>
          <Amt Ccy="EUR">60.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>
          <RltdPties><Dbtr><Pty><Nm>OTHER SARL</Nm></Pty></Dbtr></RltdPties>
        </TxDtls>
      </NtryDtls>"""
    v08 = entry(status="<Sts><Cd>BOOK</Cd></Sts>", details=details)
    path = write(tmp_path, document(v08, version="camt.053.001.08"))
    first, second = lines_only(read(path))
    assert (first.amount, first.payer_name, first.remittance) == (
        Decimal("40.00"),
        "NEW STYLE SAS",
        "FA-2026-0300",
    )
    assert (second.amount, second.payer_name) == (Decimal("60.00"), "OTHER SARL")
    assert first.booked_status == "BOOK"

    notification = document(
        entry(),
        version="camt.054.001.02",
        message="BkToCstmrDbtCdtNtfctn",
        statement="Ntfctn",
    )
    (line,) = lines_only(read(write(tmp_path, notification, "avis.xml")))
    assert (line.amount, line.account, line.bank_ref) == (
        Decimal("100.00"),
        IBAN,
        "REF",
    )


def test_an_entry_that_cannot_be_read_is_set_aside(tmp_path: Path) -> None:
    """Missing amount or date, bad sign: a Reject with the entry ordinal; others read."""
    entries = [
        entry(amount=""),  # 1
        entry(booked=""),  # 2
        entry(sign="<CdtDbtInd>CRED</CdtDbtInd>"),  # 3
        entry(amount='<Amt Ccy="EUR">12,50</Amt>'),  # 4
        entry(booked="<BookgDt><Dt>2026-11-31</Dt></BookgDt>"),  # 5
        entry(),  # 6: fine
    ]
    items = read(write(tmp_path, document("".join(entries))))
    rejects = [item for item in items if isinstance(item, Reject)]
    assert [(r.line, r.field, r.value) for r in rejects] == [
        (1, "Amt", None),
        (2, "BookgDt", None),
        (3, "CdtDbtInd", "CRED"),
        (4, "Amt", "12,50"),
        (5, "BookgDt", "2026-11-31"),
    ]
    assert all(r.where == "releve.xml" and r.reason for r in rejects)
    (line,) = [item for item in items if isinstance(item, BankLine)]
    assert (line.line, line.amount) == (6, Decimal("100.00"))


def test_a_pending_entry_without_booking_date_takes_its_value_date(
    tmp_path: Path,
) -> None:
    """PDNG entries often have no BookgDt yet; a booked one without it is refused."""
    pending = entry(booked="", status="<Sts>PDNG</Sts>")
    (line,) = lines_only(read(write(tmp_path, document(pending))))
    assert (line.booked, line.booked_status) == (NOV20, "PDNG")


def test_a_batch_transaction_without_amount_is_set_aside(tmp_path: Path) -> None:
    """In a batch each TxDtls needs its amount; the others still come through."""
    details = """<NtryDtls>
      <TxDtls><RltdPties><Dbtr><Nm>NO AMOUNT</Nm></Dbtr></RltdPties></TxDtls>
      <TxDtls><AmtDtls><TxAmt><Amt Ccy="EUR">30.00</Amt></TxAmt></AmtDtls>
        <RltdPties><Dbtr><Nm>WITH AMOUNT</Nm></Dbtr></RltdPties></TxDtls>
    </NtryDtls>"""
    items = read(write(tmp_path, document(entry(details=details))))
    reject, line = items
    assert isinstance(reject, Reject)
    assert (reject.line, reject.field) == (1, "TxDtls/Amt")
    assert isinstance(line, BankLine)
    assert (line.amount, line.payer_name) == (Decimal("30.00"), "WITH AMOUNT")


def test_a_debit_transaction_in_a_batch_takes_its_own_sign(tmp_path: Path) -> None:
    """CdtDbtInd is read at TxDtls level first, then at entry level."""
    details = """<NtryDtls>
      <TxDtls><AmtDtls><TxAmt><Amt Ccy="EUR">130.00</Amt></TxAmt></AmtDtls></TxDtls>
      <TxDtls><AmtDtls><TxAmt><Amt Ccy="EUR">30.00</Amt></TxAmt></AmtDtls>
        <CdtDbtInd>DBIT</CdtDbtInd></TxDtls>
    </NtryDtls>"""
    first, second = lines_only(read(write(tmp_path, document(entry(details=details)))))
    assert (first.amount, second.amount) == (Decimal("130.00"), Decimal("-30.00"))


def test_xml_that_does_not_parse_is_one_reject_with_its_line(tmp_path: Path) -> None:
    text = document(entry()).replace("</Ntry>", "</Ntr>")
    (reject,) = read(write(tmp_path, text))
    assert isinstance(reject, Reject)
    assert reject.line == 9
    assert "not well-formed" in reject.reason


def test_another_iso_message_is_refused(tmp_path: Path) -> None:
    text = document(entry(), version="pain.001.001.03")
    (reject,) = read(write(tmp_path, text))
    assert isinstance(reject, Reject)
    assert (reject.field, reject.value) == (
        "namespace",
        "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03",
    )


BOMB = """<?xml version="1.0"?>
<!DOCTYPE Document [
  <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
  <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
  <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
  <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
  <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
  <!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
  <!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">
]>
"""


def test_an_entity_bomb_is_refused_not_expanded(tmp_path: Path) -> None:
    """Billion laughs: refused at the DOCTYPE, in no time and no memory."""
    body = document(entry(details="<AddtlNtryInf>&g;</AddtlNtryInf>"))
    text = BOMB + body.split("\n", 1)[1]
    start = time.monotonic()
    (reject,) = read(write(tmp_path, text))
    assert time.monotonic() - start < 1
    assert isinstance(reject, Reject)
    assert reject.field == "DOCTYPE"
    assert "refused" in reject.reason


def test_an_external_entity_is_refused_and_never_read(tmp_path: Path) -> None:
    """A SYSTEM entity pointing at a local file does not leak its content."""
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE", encoding="utf-8")
    xxe = (
        '<?xml version="1.0"?>\n'
        f'<!DOCTYPE Document [<!ENTITY x SYSTEM "{secret.as_uri()}">]>\n'
    )
    body = document(entry(details="<AddtlNtryInf>&x;</AddtlNtryInf>"))
    items = read(write(tmp_path, xxe + body.split("\n", 1)[1]))
    assert len(items) == 1
    assert isinstance(items[0], Reject)
    assert "TOP-SECRET" not in repr(items)


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
        "payer_name": text(140),
        "payer_iban": st.from_regex(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{0,30}", fullmatch=True)
        | st.just(""),
        "remittance": text(300),
        "structured_ref": text(35),
        "end_to_end_id": text(35).filter(lambda s: clean(s) != "NOTPROVIDED"),
        "label": text(100),
        "bank_ref": text(35),
        "reversal": st.booleans(),
    }
)


@settings(max_examples=60, deadline=None)
@given(drawn=st.lists(movements, max_size=6))
def test_writer_then_reader_gives_back_every_movement(
    build: Any, tmp_path_factory: pytest.TempPathFactory, drawn: list[dict[str, Any]]
) -> None:
    """What fixtures/bank/build.py writes reads back field for field, keys distinct."""
    moves = [build.Movement(**fields) for fields in drawn]
    statement = build.camt053(IBAN, moves, day=NOV20)
    path = write(tmp_path_factory.mktemp("camt"), statement)
    lines = lines_only(read(path))
    assert len(lines) == len(moves)
    assert len({line.key for line in lines}) == len(lines)
    for number, (move, line) in enumerate(zip(moves, lines, strict=True), start=1):
        assert line.line == number
        assert line.amount == move.amount
        assert line.booked == line.value_date == move.booked
        assert line.account == IBAN
        assert line.currency == "EUR"
        assert line.payer_name == clean(move.payer_name)
        assert line.payer_account == move.payer_iban
        assert line.remittance == clean(move.remittance)
        assert line.structured_ref == clean(move.structured_ref)
        assert line.end_to_end_id == clean(move.end_to_end_id)
        assert line.label == clean(move.label_or_default())
        default_ref = f"{move.booked:%Y%m%d}{number:05d}"
        assert line.bank_ref == (clean(move.bank_ref) if move.bank_ref else default_ref)
        assert line.reversal == move.reversal
        assert line.booked_status == "BOOK"


def test_a_statement_without_account_sets_its_entries_aside(tmp_path: Path) -> None:
    """Movements that cannot be tied to one of our accounts are not guessed."""
    text = document(entry() + entry()).replace(f"<IBAN>{IBAN}</IBAN>", "")
    (reject,) = read(write(tmp_path, text))
    assert isinstance(reject, Reject)
    assert (reject.line, reject.field) == (1, "Acct/Id")
    assert "2 entries" in reject.reason
