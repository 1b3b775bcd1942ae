"""The generic CSV mapping on its fixture: figures computed by hand."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine

from sageconnect.clock import FixedClock
from sageconnect.config import load
from sageconnect.jobs import sync_company
from sageconnect.store.queries import balances, company_ids
from support import ROOT, write_config

# code: (ledger balance, open invoices, unapplied credits, overdue on 2026-11-24)
EXPECTED = {
    "CLI001": (
        "3656.88",
        "3656.88",
        "0.00",
        "3656.88",
    ),  # FA-1001 paid (A), FA-1010 open
    # 850.40 partly paid (b); the unlettered avoir 50.40 matched to it (oldest)
    "CLI002": ("400.00", "400.00", "0.00", "400.00"),
    "CLI003": ("2499.99", "2499.99", "0.00", "2400.00"),  # FA-1004 not due yet
    # an unlettered 0.01 payment, matched to the only open invoice
    "CLI004": ("499.99", "499.99", "0.00", "499.99"),
}


def test_csv_export_gives_the_hand_computed_balances(
    tmp_path: Path, store_url: str, engine: Engine, clock: FixedClock
) -> None:
    """Partial lettering, a credit note and a cent all land where an accountant puts them."""
    path = write_config(tmp_path, store_url, str(ROOT / "fixtures" / "csv"))
    path.write_text(
        path.read_text(encoding="utf-8").replace('"fec"', '"csv"'), encoding="utf-8"
    )
    config = load(path)
    report = sync_company(config, "acme", engine, clock)
    assert (report.status, report.rejected) == ("completed_with_rejects", 2)
    assert sorted((r.line, r.field) for r in report.rejects if r.line) == [(12, "date")]
    with engine.connect() as conn:
        rows = balances(conn, company_ids(conn)["acme"], clock.now().date())
    found = {
        b.code: (b.ledger_balance, b.open_invoices, b.unapplied_credits, b.overdue)
        for b in rows
    }
    assert found == {code: tuple(Decimal(x) for x in v) for code, v in EXPECTED.items()}
