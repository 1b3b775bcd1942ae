from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from sageconnect.errors import SourceUnavailable
from sageconnect.mapping.documents import LedgerSettings
from sageconnect.mapping.ledger import LedgerMapper
from sageconnect.mapping.registry import load_file
from sageconnect.model.records import (
    Customer,
    DocKind,
    DueSource,
    Invoice,
    Payment,
    PaymentKind,
    Record,
    Reject,
)
from support import HEADER, ROOT, fec_lines

SPEC = load_file(ROOT / "mappings" / "fec.toml")
SETTINGS = LedgerSettings(
    currency="EUR", default_terms="30d", terms_by_customer={"C2": "45d-eom"}
)

SALE = [
    "VE|Ventes|1|20260105|41100000|Clients|C1|Café de l'Étoile|FA1|20260105|Facture FA1|1200,00|0,00|A|20260210|20260105||",
    "VE|Ventes|1|20260105|70600000|Prestations|||FA1|20260105|Facture FA1|0,00|1000,00|||20260105||",
    "VE|Ventes|1|20260105|44571000|TVA|||FA1|20260105|Facture FA1|0,00|200,00|||20260105||",
]
RECEIPT = [
    "BQ|Banque|2|20260210|51200000|Banque|||REL1|20260210|Virement|1200,00|0,00|||20260210||",
    "BQ|Banque|2|20260210|41100000|Clients|C1|Café de l'Étoile|REL1|20260210|Virement FA1|0,00|1200,00|A|20260210|20260210||",
]
CREDIT_NOTE = [
    "VE|Ventes|3|20260301|41100000|Clients|C2|Garage Müller|AV1|20260301|Avoir|0,00|120,00|||20260301||",
    "VE|Ventes|3|20260301|70600000|Prestations|||AV1|20260301|Avoir|100,00|0,00|||20260301||",
    "VE|Ventes|3|20260301|44571000|TVA|||AV1|20260301|Avoir|20,00|0,00|||20260301||",
]


def read(
    tmp_path: Path, *files: tuple[str, str], settings: LedgerSettings = SETTINGS
) -> list[Record]:
    paths = []
    for name, text in files:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return list(LedgerMapper(SPEC, paths, settings).records())


def of(kind: type, records: list[Record]) -> list:  # type: ignore[type-arg]
    return [r for r in records if isinstance(r, kind)]


def test_sales_entries_become_invoices_and_credit_notes(tmp_path: Path) -> None:
    """A receivable debit in a sale is an invoice; a receivable credit there is a credit note."""
    records = read(tmp_path, ("1FEC20261231.txt", fec_lines(*SALE, *CREDIT_NOTE)))
    invoice, note = of(Invoice, records)
    assert (invoice.kind, invoice.number, invoice.amount) == (
        DocKind.INVOICE,
        "FA1",
        Decimal("1200.00"),
    )
    assert invoice.due == dt.date(2026, 2, 4)
    assert invoice.due_source is DueSource.TERMS
    assert invoice.lettering == "20261231:A"
    assert (note.kind, note.amount, note.customer) == (
        DocKind.CREDIT_NOTE,
        Decimal("-120.00"),
        "C2",
    )


def test_bank_entries_become_payments(tmp_path: Path) -> None:
    """A receivable credit against a bank account is a receipt carrying its lettering."""
    records = read(tmp_path, ("1FEC20261231.txt", fec_lines(*SALE, *RECEIPT)))
    (payment,) = of(Payment, records)
    assert payment.kind is PaymentKind.RECEIPT
    assert (payment.amount, payment.received, payment.reference) == (
        Decimal("1200.00"),
        dt.date(2026, 2, 10),
        "REL1",
    )
    assert payment.lettering == "20261231:A"
    assert payment.lettered_on == dt.date(2026, 2, 10)


def test_customers_come_from_auxiliary_accounts_or_the_account_itself(
    tmp_path: Path,
) -> None:
    """An auxiliary account is the customer; without one, the receivable account is."""
    walk_in = [
        "VE|Ventes|4|20260105|41110000|Clients divers|||FA9|20260105|Vente comptoir|60,00|0,00|||20260105||",
        "VE|Ventes|4|20260105|70600000|Prestations|||FA9|20260105|Vente|0,00|60,00|||20260105||",
    ]
    records = read(tmp_path, ("1FEC20261231.txt", fec_lines(*SALE, *walk_in)))
    assert sorted((c.code, c.name) for c in of(Customer, records)) == [
        ("41110000", "Clients divers"),
        ("C1", "Café de l'Étoile"),
    ]


def test_a_due_date_column_wins_over_payment_terms(tmp_path: Path) -> None:
    """An extra DateLimitReglmt column gives the due date as the source wrote it."""
    rows = [
        line + "|20260415"
        if line.startswith("VE|Ventes|1|20260105|411")
        else line + "|"
        for line in SALE
    ]
    records = read(
        tmp_path,
        ("1FEC20261231.txt", fec_lines(*rows, header=HEADER + "|DateLimitReglmt")),
    )
    (invoice,) = of(Invoice, records)
    assert (invoice.due, invoice.due_source) == (dt.date(2026, 4, 15), DueSource.SOURCE)


def test_montant_sens_files_read_like_debit_credit(tmp_path: Path) -> None:
    """The Montant/Sens variant gives the same signed amounts as Debit/Credit."""
    header = HEADER.replace("Debit|Credit", "Montant|Sens")
    rows = [
        line.replace("|1200,00|0,00|", "|1200,00|D|")
        .replace("|0,00|1000,00|", "|1000,00|C|")
        .replace("|0,00|200,00|", "|200,00|C|")
        .replace("|0,00|1200,00|", "|1200,00|C|")
        .replace("|1200,00|0,00|", "|1200,00|+1|")
        for line in [*SALE, *RECEIPT]
    ]
    records = read(tmp_path, ("1FEC20261231.txt", fec_lines(*rows, header=header)))
    assert [i.amount for i in of(Invoice, records)] == [Decimal("1200.00")]
    assert [p.amount for p in of(Payment, records)] == [Decimal("1200.00")]


def test_bad_receivable_lines_are_rejected_with_field_and_reason(
    tmp_path: Path,
) -> None:
    """A bad date and a bad amount each give a Reject naming line, field and value."""
    bad = [
        "VE|Ventes|5|20261345|41100000|Clients|C1|Café|FA5|20260105|x|10,00|0,00|||20260105||",
        "VE|Ventes|6|20260105|41100000|Clients|C1|Café|FA6|20260105|x|12,3.4|0,00|||20260105||",
        "VE|Ventes|7|20260105|41100000|Clients|C1|Café|FA7|20260105|x|||||20260105||",
    ]
    records = read(tmp_path, ("1FEC20261231.txt", fec_lines(*SALE, *bad)))
    rejects = of(Reject, records)
    assert [(r.line, r.field, r.value) for r in rejects] == [
        (5, "EcritureDate", "20261345"),
        (6, "Debit", "12,3.4"),
        (7, "Debit", ""),
    ]
    assert [i.number for i in of(Invoice, records)] == ["FA1"]


def test_a_header_without_amount_columns_stops_the_file(tmp_path: Path) -> None:
    """Without Debit/Credit or Montant/Sens the file cannot be read at all."""
    header = HEADER.replace("Debit|Credit", "Foo|Bar")
    with pytest.raises(SourceUnavailable, match="Debit\\+Credit or Montant\\+Sens"):
        read(tmp_path, ("1FEC20261231.txt", fec_lines(*SALE, header=header)))


def test_opening_lines_of_a_loaded_year_are_not_counted_twice(tmp_path: Path) -> None:
    """With both years loaded, an a-nouveau line lends its lettering to the item it carries."""
    year1 = fec_lines(
        *SALE[:1], *SALE[1:]
    )  # FA1 open at closing (letter only in year 2)
    year1 = year1.replace("|1200,00|0,00|A|20260210|", "|1200,00|0,00|||")
    opening = [
        "AN|A nouveaux|1|20270101|41100000|Clients|C1|Café de l'Étoile|FA1|20260105|Facture FA1|1200,00|0,00|B|20270210|20270101||",
        "AN|A nouveaux|1|20270101|89000000|Bilan d'ouverture|||AN|20270101|AN|0,00|1200,00|||20270101||",
        "BQ|Banque|2|20270210|51200000|Banque|||REL9|20270210|Virement|1200,00|0,00|||20270210||",
        "BQ|Banque|2|20270210|41100000|Clients|C1|Café de l'Étoile|REL9|20270210|Virement FA1|0,00|1200,00|B|20270210|20270210||",
    ]
    records = read(
        tmp_path,
        ("1FEC20261231.txt", year1),
        ("1FEC20271231.txt", fec_lines(*opening)),
    )
    (invoice,) = of(Invoice, records)
    (payment,) = of(Payment, records)
    assert invoice.key.startswith("VE/1/20260105/")
    assert invoice.lettering == payment.lettering == "20271231:B"


def test_opening_lines_alone_are_open_items(tmp_path: Path) -> None:
    """When the previous year is not loaded, opening lines are the open items themselves."""
    opening = [
        "AN|A nouveaux|1|20270101|41100000|Clients|C1|Café|FA1|20260105|Facture FA1|1200,00|0,00|||20270101||",
        "AN|A nouveaux|1|20270101|41100000|Clients|C1|Café|REL3|20261220|Acompte|0,00|200,00|||20270101||",
        "AN|A nouveaux|1|20270101|89000000|Bilan d'ouverture|||AN|20270101|AN|0,00|1000,00|||20270101||",
    ]
    records = read(tmp_path, ("1FEC20271231.txt", fec_lines(*opening)))
    (invoice,) = of(Invoice, records)
    (payment,) = of(Payment, records)
    assert (invoice.kind, invoice.issued, invoice.due) == (
        DocKind.OPENING,
        dt.date(2026, 1, 5),
        dt.date(2026, 2, 4),
    )
    assert (payment.kind, payment.amount) == (PaymentKind.OPENING, Decimal("200.00"))


def test_foreign_currency_amounts_are_kept_beside(tmp_path: Path) -> None:
    """A USD invoice keeps its USD amount beside the company-currency amount."""
    rows = [SALE[0].replace("20260105||", "20260105|1300,00|USD"), *SALE[1:]]
    (invoice,) = of(Invoice, read(tmp_path, ("1FEC20261231.txt", fec_lines(*rows))))
    assert (invoice.amount, invoice.currency, invoice.currency_amount) == (
        Decimal("1200.00"),
        "USD",
        Decimal("1300.00"),
    )
