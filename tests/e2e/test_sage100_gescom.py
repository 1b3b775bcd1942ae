"""Sage 100 from the commercial side: due lines, payments and F_REGLECH allocations."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine

from sageconnect.clock import FixedClock
from sageconnect.config import load
from sageconnect.jobs import sync_company
from sageconnect.store.queries import balances, company_ids
from support import SageDb, build_sage


def config_for(tmp_path: Path, db: SageDb, *, matching: bool = True) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[store]\nurl = "sqlite:///{tmp_path / "store.db"}"\n[companies.acme]\nname = "ACME"\n'
        + ("" if matching else "[companies.acme.matching]\nmethods = []\n")
        + f'[companies.acme.source]\nmapping = "sage100-gescom"\n{db.source_settings}',
        encoding="utf-8",
    )
    return path


def test_open_due_lines_and_unallocated_payments_match_the_documents(
    sage: SageDb, tmp_path: Path, store: Engine, clock: FixedClock
) -> None:
    """Per customer: open due amounts and unapplied credits are what F_DOCREGL and F_REGLECH leave."""
    config = load(config_for(tmp_path, sage, matching=False))
    report = sync_company(config, "acme", store, clock)
    assert (report.status, report.rejected) == ("completed", 0)
    assert report.allocations > 0
    with store.connect() as conn:
        rows = balances(conn, company_ids(conn)["acme"], clock.now().date())
    zero = Decimal("0.00")
    found = {b.code: (b.open_invoices, b.unapplied_credits) for b in rows}
    expected = {
        code: (
            sage.summary.gescom.get(code, (zero, zero))[0],
            sage.summary.gescom.get(code, (zero, zero))[1]
            + sage.summary.gescom_credit_notes.get(code, zero),
        )
        for code in found
    }
    assert found == expected
    assert any(v[0] for v in found.values())
    assert any(v[1] for v in found.values())


def test_matching_places_what_f_reglech_leaves_unallocated(
    sage: SageDb, tmp_path: Path, store: Engine, clock: FixedClock
) -> None:
    """With matching on, what no F_REGLECH row allocates pays what is still due."""
    report = sync_company(load(config_for(tmp_path, sage)), "acme", store, clock)
    assert report.matched > 0
    with store.connect() as conn:
        rows = balances(conn, company_ids(conn)["acme"], clock.now().date())
    zero = Decimal("0.00")
    found = {b.code: (b.open_invoices, b.unapplied_credits) for b in rows}
    expected = {}
    for code in found:
        due, credit = sage.summary.gescom.get(code, (zero, zero))
        credit += sage.summary.gescom_credit_notes.get(code, zero)
        paid = min(due, credit)
        expected[code] = (due - paid, credit - paid)
    assert found == expected
    assert any(v[0] for v in found.values())


def test_a_second_sync_changes_nothing(
    sage: SageDb, tmp_path: Path, store: Engine, clock: FixedClock
) -> None:
    """Re-reading the commercial side changes no document, payment or allocation total."""
    config = load(config_for(tmp_path, sage))
    first = sync_company(config, "acme", store, clock)
    with store.connect() as conn:
        before = balances(conn, company_ids(conn)["acme"], clock.now().date())
    again = sync_company(config, "acme", store, clock, full=True)
    assert (again.inserted, again.updated, again.closed) == (0, 0, 0)
    assert again.allocations == first.allocations
    with store.connect() as conn:
        assert balances(conn, company_ids(conn)["acme"], clock.now().date()) == before


def add_settlement(
    db: SageDb, rg: int, dr: int, amount: str, *, domain: int = 0
) -> None:
    """Insert an F_REGLECH row stamped now (after the last sync's watermark)."""
    with db.admin() as conn:
        piece = conn.execute(
            "SELECT DO_Piece FROM F_DOCREGL WHERE DR_No = ?", dr
        ).fetchval()
        conn.execute(
            "INSERT INTO F_REGLECH (RG_No, DR_No, DO_Domaine, DO_Type, DO_Piece, RC_Montant,"
            " RG_TypeReg, cbCreateur, cbModification) VALUES (?, ?, ?, 7, ?, ?, 0, 'TEST', ?)",
            rg,
            dr,
            domain,
            piece,
            Decimal(amount),
            "2026-11-24 09:00:00",
        )


def open_pair(db: SageDb, *, settled: bool) -> tuple[int, int, str]:
    """A payment and a due line of the same customer: (RG_No, DR_No, customer)."""
    with db.admin() as conn:
        row = conn.execute(
            "SELECT g.RG_No, r.DR_No, g.CT_NumPayeur FROM F_CREGLEMENT g"
            " JOIN F_DOCENTETE d ON d.DO_Tiers = g.CT_NumPayeur"
            " JOIN F_DOCREGL r ON r.DO_Domaine = d.DO_Domaine AND r.DO_Type = d.DO_Type"
            " AND r.DO_Piece = d.DO_Piece"
            " WHERE g.RG_Impute = 0 AND d.DO_Domaine = 0 AND d.DO_Type = 7"
            " AND d.DO_Provenance = 0 AND r.DR_Regle = ? ORDER BY g.RG_No, r.DR_No",
            1 if settled else 0,
        ).fetchone()
    return int(row[0]), int(row[1]), str(row[2])


def customer_balance(
    store: Engine, clock: FixedClock, code: str
) -> tuple[Decimal, Decimal]:
    with store.connect() as conn:
        (b,) = balances(conn, company_ids(conn)["acme"], clock.now().date(), code)
    return b.open_invoices, b.unapplied_credits


def test_a_new_allocation_arrives_without_a_full_read(
    tmp_path: Path, store: Engine, clock: FixedClock
) -> None:
    """An F_REGLECH row added for an old payment is read by the next incremental sync."""
    db = build_sage("sqlite", tmp_path)
    config = load(config_for(tmp_path, db, matching=False))  # F_REGLECH alone
    sync_company(config, "acme", store, clock)
    rg, dr, customer = open_pair(db, settled=False)
    before = customer_balance(store, clock, customer)
    add_settlement(db, rg, dr, "0.01")
    clock.advance(dt.timedelta(hours=1))
    report = sync_company(config, "acme", store, clock)
    assert not report.full_read
    assert customer_balance(store, clock, customer) == (
        before[0] - Decimal("0.01"),
        before[1] - Decimal("0.01"),
    )


def test_an_allocation_beyond_the_amount_is_set_aside(
    tmp_path: Path, store: Engine, clock: FixedClock
) -> None:
    """Settling a due line already settled is a reject; no customer's open amount goes negative."""
    db = build_sage("sqlite", tmp_path)
    rg, dr, _ = open_pair(db, settled=True)
    add_settlement(db, rg, dr, "0.01")
    report = sync_company(load(config_for(tmp_path, db)), "acme", store, clock)
    assert any("settles more than" in r.reason for r in report.rejects)
    with store.connect() as conn:
        rows = balances(conn, company_ids(conn)["acme"], clock.now().date())
    assert all(b.open_invoices >= 0 and b.unapplied_credits >= 0 for b in rows)


def test_supplier_side_allocations_are_ignored(
    tmp_path: Path, store: Engine, clock: FixedClock
) -> None:
    """F_REGLECH rows of purchase documents are not the connector's business: no reject."""
    db = build_sage("sqlite", tmp_path)
    rg, dr, _ = open_pair(db, settled=False)
    add_settlement(db, rg, dr, "0.01", domain=1)
    report = sync_company(load(config_for(tmp_path, db)), "acme", store, clock)
    assert (report.status, report.rejected) == ("completed", 0)
