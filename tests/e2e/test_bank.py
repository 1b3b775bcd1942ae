"""Bank statements as an early payment signal: money received pauses the chase."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from sageconnect.cli import main
from sageconnect.clock import FixedClock
from sageconnect.config import Config, load
from sageconnect.jobs import sync_company
from sageconnect.store.bank import bank_report
from sageconnect.store.engine import open_store
from sageconnect.store.open_items import OpenItem, open_items
from sageconnect.store.queries import company_ids, open_rejects
from support import ROOT, fec_lines, write_config

FEC = ROOT / "fixtures" / "fec"
DEMO = ROOT / "fixtures" / "bank" / "demo"
TERMS = 'by_customer = { C0003 = "45d-eom", C0007 = "45d-eom", C0010 = "60d", C0011 = "60d" }'


def demo_config(tmp_path: Path, store_url: str, bank: Path = DEMO) -> Config:
    extra = (
        f"[companies.acme.payment_terms]\n{TERMS}\n"
        f'[companies.acme.bank]\npath = "{bank}"\n'
    )
    return load(write_config(tmp_path, store_url, str(FEC), extra))


def items(engine: Engine, day: dt.date) -> dict[str, OpenItem]:
    with engine.connect() as conn:
        found = open_items(conn, company_ids(conn)["acme"], day)
    return {i.number: i for i in found if i.kind == "invoice"}


def test_the_demo_statements_pause_the_invoices_they_pay(
    tmp_path: Path, store_url: str, engine: Engine, clock: FixedClock
) -> None:
    """A camt.053 and a CFONB 120: five invoices paid in full, one in part, none chased."""
    sync_company(demo_config(tmp_path, store_url), "acme", engine, clock)
    found = items(engine, clock.now().date())
    paid = ["FA2026-00340", "FA2026-00295", "FA2026-00130"]  # camt: text, RF, payer
    paid += ["FA2026-00360", "FA2026-00364"]  # CFONB: one credit, two invoices
    for number in paid:
        item = found[number]
        assert (item.pending, item.to_chase) == (item.open, Decimal("0.00")), number
        assert item.open > 0  # still open in the ledger: the accountant has not booked
    part = found["FA2026-00259"]  # 100.00 received of 211.82
    assert (part.pending, part.to_chase) == (Decimal("100.00"), Decimal("111.82"))
    untouched = found["FA2026-00344"]
    assert (untouched.pending, untouched.to_chase) == (Decimal("0.00"), untouched.open)


def test_lines_that_match_nothing_are_listed_with_their_reason(
    tmp_path: Path, store_url: str, engine: Engine, clock: FixedClock
) -> None:
    """Unknown payers and a known payer with an amount matching no invoice are not guessed."""
    sync_company(demo_config(tmp_path, store_url), "acme", engine, clock)
    with engine.connect() as conn:
        rows = bank_report(conn, company_ids(conn)["acme"])
    assert [(r.payer, str(r.amount), r.status, r.invoices) for r in rows] == [
        ("SCI BELLEVUE", "980.00", "unmatched", ""),
        ("Électroménager Besançon", "500.00", "unmatched", ""),
        ("M. JEAN DUPONT", "150.00", "unmatched", ""),
    ]
    assert "payer is no known customer" in rows[0].reason
    assert "no open invoice matches the amount" in rows[1].reason
    assert (rows[0].file, rows[0].line) == ("releve-20261122.cfonb", 8)


def test_reading_the_same_statements_again_changes_nothing(
    tmp_path: Path, store_url: str, engine: Engine, clock: FixedClock
) -> None:
    """Lines are kept once by key: a second run adds no line and no second match."""
    config = demo_config(tmp_path, store_url)
    sync_company(config, "acme", engine, clock)
    before = items(engine, clock.now().date())
    clock.advance(dt.timedelta(hours=1))
    sync_company(config, "acme", engine, clock)
    assert items(engine, clock.now().date()) == before
    with engine.connect() as conn:
        assert len(bank_report(conn, company_ids(conn)["acme"], everything=True)) == 9


def test_the_pause_ends_after_pending_days(
    tmp_path: Path, store_url: str, engine: Engine, clock: FixedClock
) -> None:
    """Money seen at the bank but never booked: after 10 days the invoice is chased again."""
    sync_company(demo_config(tmp_path, store_url), "acme", engine, clock)
    later = dt.date(2026, 11, 23) + dt.timedelta(days=11)
    item = items(engine, later)["FA2026-00340"]
    assert (item.pending, item.to_chase) == (Decimal("0.00"), item.open)


INVOICE = [
    "VE|Ventes|1|20261102|41100000|Clients|C1|Café de l'Étoile|FA0042|20261102|Facture FA0042|1000,00|0,00|||20261102||",
    "VE|Ventes|1|20261102|70600000|Prestations|||FA0042|20261102|Facture FA0042|0,00|1000,00|||20261102||",
]
RECEIPT = [
    "BQ|Banque|2|20261123|51200000|Banque|||REL1123|20261123|VIR SEPA CAFE|1000,00|0,00|||20261123||",
    "BQ|Banque|2|20261123|41100000|Clients|C1|Café de l'Étoile|REL1123|20261123|VIR SEPA CAFE|0,00|1000,00|||20261123||",
]


def small_company(tmp_path: Path, build: Any, *lines: str) -> Config:
    (tmp_path / "fec").mkdir(exist_ok=True)
    (tmp_path / "fec" / "1FEC20261231.txt").write_text(
        fec_lines(*lines), encoding="utf-8"
    )
    bank = tmp_path / "bank"
    bank.mkdir(exist_ok=True)
    movement = build.Movement(
        booked=dt.date(2026, 11, 23),
        amount=Decimal("1000.00"),
        payer_name="CAFE DE L ETOILE",
        remittance="Facture FA0042",
    )
    (bank / "releve.xml").write_text(
        build.camt053(build.IBAN, [movement]), encoding="utf-8"
    )
    extra = '[companies.acme.bank]\npath = "bank"\n'
    return load(write_config(tmp_path, "sqlite:///store.db", "fec", extra))


def test_the_accountants_entry_ends_the_pause(
    tmp_path: Path, clock: FixedClock, build: Any
) -> None:
    """Once the receipt is in the ledger, the invoice is paid there, not pending."""
    config = small_company(tmp_path, build, *INVOICE)
    engine = _engine(config)
    sync_company(config, "acme", engine, clock)
    (item,) = items(engine, clock.now().date()).values()
    assert (item.open, item.pending, item.to_chase) == (
        Decimal("1000.00"),
        Decimal("1000.00"),
        Decimal("0.00"),
    )
    config = small_company(tmp_path, build, *INVOICE, *RECEIPT)
    clock.advance(dt.timedelta(hours=1))
    sync_company(config, "acme", engine, clock)
    assert items(engine, clock.now().date()) == {}
    with engine.connect() as conn:
        (line,) = bank_report(conn, company_ids(conn)["acme"], everything=True)
    assert line.status == "booked"


def test_a_line_read_before_its_invoice_is_matched_later(
    tmp_path: Path, clock: FixedClock, build: Any
) -> None:
    """Money arriving before the invoice is synced waits, unmatched, then matches."""
    config = small_company(tmp_path, build)  # no invoice yet
    (tmp_path / "fec" / "1FEC20261231.txt").write_text(
        fec_lines(INVOICE[1])  # its sales line only, encoding="utf-8"
    )
    engine = _engine(config)
    sync_company(config, "acme", engine, clock)
    with engine.connect() as conn:
        (line,) = bank_report(conn, company_ids(conn)["acme"])
    assert line.status == "unmatched"
    config = small_company(tmp_path, build, *INVOICE)
    clock.advance(dt.timedelta(hours=1))
    sync_company(config, "acme", engine, clock)
    (item,) = items(engine, clock.now().date()).values()
    assert item.to_chase == Decimal("0.00")


def test_a_malformed_statement_is_set_aside_and_the_rest_goes_on(
    tmp_path: Path, clock: FixedClock, build: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """A broken record is a reject with its file and line; good lines still pause."""
    config = small_company(tmp_path, build, *INVOICE)
    bad = "04" + "X" * 118 + "\r\n"
    (tmp_path / "bank" / "broken.cfonb").write_bytes(bad.encode("latin-1"))
    assert main(["sync", "-c", str(tmp_path / "config.toml")], clock) == 0
    events = [
        json.loads(line)
        for line in capsys.readouterr().err.splitlines()
        if line.startswith("{")
    ]
    (read,) = [e for e in events if e["event"] == "bank_read"]
    assert (read["matched"], read["rejected"]) == (1, 1)
    engine = _engine(config)
    with engine.connect() as conn:
        (reject,) = open_rejects(conn, company_ids(conn)["acme"])
    assert (reject.file, reject.line) == ("bank/broken.cfonb", 1)
    (item,) = items(engine, clock.now().date()).values()
    assert item.to_chase == Decimal("0.00")


def _engine(config: Config) -> Engine:
    return open_store(config.store_url())


def test_cli_reports_open_items_and_bank_lines(
    tmp_path: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    """JSON open items carry pending and to_chase as strings; the bank report lists waiting lines."""
    demo_config(tmp_path, "sqlite:///store.db")
    config = str(tmp_path / "config.toml")
    assert main(["sync", "-c", config], clock) == 0
    capsys.readouterr()
    argv = ["report", "open-items", "-c", config, "--customer", "C0021"]
    assert main([*argv, "--format", "json"], clock) == 0
    rows = json.loads(capsys.readouterr().out)
    (part,) = [r for r in rows if r["number"] == "FA2026-00259"]
    assert (part["open"], part["pending"], part["to_chase"]) == (
        "211.82",
        "100.00",
        "111.82",
    )
    assert {r["customer"] for r in rows} == {"C0021"}
    assert main(["report", "bank", "-c", config, "--format", "csv"], clock) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("company,booked,amount,payer")
    assert len(lines) == 4  # header and the three lines that matched nothing


def test_doctor_names_a_missing_statement_folder(
    tmp_path: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    demo_config(tmp_path, "sqlite:///store.db", bank=tmp_path / "nowhere")
    assert main(["doctor", "-c", str(tmp_path / "config.toml")], clock) == 69
    out = capsys.readouterr().out
    assert "bank folder" in out
    assert "no such folder" in out
