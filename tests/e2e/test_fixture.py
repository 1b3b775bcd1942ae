"""The demo fixture (two fiscal years of a 50-customer company) end to end."""

from __future__ import annotations

import csv
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine

from sageconnect.clock import FixedClock
from sageconnect.config import Config, load
from sageconnect.jobs import sync_company
from sageconnect.store.queries import Balance, balances, company_ids
from support import ROOT, write_config

FEC = ROOT / "fixtures" / "fec"
YEAR_2026 = FEC / "123456789FEC20261231.txt"
TERMS = 'by_customer = { C0003 = "45d-eom", C0007 = "45d-eom", C0010 = "60d", C0011 = "60d" }'


def ledger_sums(path: Path, encoding: str) -> dict[str, Decimal]:
    """Debit - credit per customer over the receivable lines, read independently."""
    sums: dict[str, Decimal] = defaultdict(Decimal)
    with path.open(encoding=encoding, newline="") as handle:
        for row in csv.DictReader(handle, delimiter="|"):
            if row["CompteNum"].startswith("411"):
                amount = Decimal(row["Debit"].replace(",", ".")) - Decimal(
                    row["Credit"].replace(",", ".")
                )
                sums[row["CompAuxNum"] or row["CompteNum"]] += amount
    return sums


@pytest.fixture
def config(tmp_path: Path, store_url: str) -> Config:
    extra = f"[companies.acme.payment_terms]\n{TERMS}\n"
    return load(write_config(tmp_path, store_url, str(FEC), extra))


def synced(config: Config, engine: Engine, clock: FixedClock) -> dict[str, Balance]:
    sync_company(config, "acme", engine, clock)
    with engine.connect() as conn:
        rows = balances(conn, company_ids(conn)["acme"], clock.now().date())
    return {b.code: b for b in rows}


def test_balances_equal_the_ledger_to_the_cent(
    config: Config, engine: Engine, clock: FixedClock
) -> None:
    """Every customer's balance equals debit - credit of its receivable lines in the ledger."""
    expected = ledger_sums(YEAR_2026, "iso-8859-15")
    found = synced(config, engine, clock)
    assert len(found) >= 50
    assert {code: b.ledger_balance for code, b in found.items()} == {
        code: expected.get(code, Decimal("0.00")) for code in found
    }
    assert set(expected) <= set(found)


def open_items_by_lettering(
    path: Path, encoding: str, *, matched: bool
) -> dict[str, tuple[Decimal, Decimal]]:
    """Per customer (open debits, unapplied credits) as the file's lettering states them.

    Unlettered lines are open in full; a balanced (upper-case) group is settled;
    a partial (lower-case) group leaves its net on the heavier side. With
    ``matched``, unlettered credits then pay what is open on the debit side (a
    partial group's credit remainder is the accountant's to place, not ours).
    """
    lines: dict[str, list[tuple[str, Decimal]]] = defaultdict(list)
    with path.open(encoding=encoding, newline="") as handle:
        for row in csv.DictReader(handle, delimiter="|"):
            if row["CompteNum"].startswith("411"):
                amount = Decimal(row["Debit"].replace(",", ".")) - Decimal(
                    row["Credit"].replace(",", ".")
                )
                lines[row["CompAuxNum"] or row["CompteNum"]].append(
                    (row["EcritureLet"], amount)
                )
    result = {}
    for customer, items in lines.items():
        debit = sum((a for code, a in items if not code and a > 0), Decimal(0))
        free = sum((-a for code, a in items if not code and a < 0), Decimal(0))
        locked = Decimal(0)
        for code in {c for c, _ in items if c and c.islower()}:
            net = sum((a for c, a in items if c == code), Decimal(0))
            debit, locked = debit + max(net, Decimal(0)), locked + max(-net, Decimal(0))
        if matched:
            paid = min(debit, free)
            debit, free = debit - paid, free - paid
        result[customer] = (debit, free + locked)
    return result


@pytest.mark.parametrize("matching", [True, False], ids=["matched", "lettering-only"])
def test_open_items_follow_the_source_lettering(
    tmp_path: Path, store_url: str, engine: Engine, clock: FixedClock, *, matching: bool
) -> None:
    """Open invoices and unapplied credits per customer: the lettering, then our matching."""
    extra = f"[companies.acme.payment_terms]\n{TERMS}\n"
    if not matching:
        extra += "[companies.acme.matching]\nmethods = []\n"
    config = load(write_config(tmp_path, store_url, str(FEC), extra))
    expected = open_items_by_lettering(YEAR_2026, "iso-8859-15", matched=matching)
    found = synced(config, engine, clock)
    assert {
        code: (b.open_invoices, b.unapplied_credits) for code, b in found.items()
    } == {
        code: expected.get(code, (Decimal("0.00"), Decimal("0.00"))) for code in found
    }
    assert sum(b.overdue for b in found.values()) > 0
    # unlettered receipts exist, and matching is what places them
    assert any(b.unapplied_credits for b in found.values()) is not matching


def test_a_second_sync_of_the_fixture_is_a_no_op(
    config: Config, engine: Engine, clock: FixedClock
) -> None:
    """Syncing the same files again, even forced, inserts, updates and closes nothing."""
    first = sync_company(config, "acme", engine, clock)
    assert first.inserted > 1000
    assert first.rejected == 0
    assert first.allocations > 0
    forced = sync_company(config, "acme", engine, clock, full=True)
    assert (forced.inserted, forced.updated, forced.closed, forced.new_rejects) == (
        0,
        0,
        0,
        0,
    )
    assert forced.read == first.read
