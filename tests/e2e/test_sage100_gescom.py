"""Sage 100 from the commercial side: due lines, payments and F_REGLECH allocations."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine

from sageconnect.clock import FixedClock
from sageconnect.config import load
from sageconnect.jobs import sync_company
from sageconnect.store.engine import open_store
from sageconnect.store.queries import balances, company_ids
from support import SageDb, build_sage, drop_sage


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def sage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SageDb]:
    db = build_sage(request.param, tmp_path)
    yield db
    drop_sage(db)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Engine]:
    engine = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    yield engine
    engine.dispose()


def config_for(tmp_path: Path, db: SageDb) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[store]\nurl = "sqlite:///{tmp_path / "store.db"}"\n[companies.acme]\nname = "ACME"\n'
        f'[companies.acme.source]\nmapping = "sage100-gescom"\n{db.source_settings}',
        encoding="utf-8",
    )
    return path


def test_open_due_lines_and_unallocated_payments_match_the_documents(
    sage: SageDb, tmp_path: Path, store: Engine, clock: FixedClock
) -> None:
    """Per customer: open due amounts and unapplied credits are what F_DOCREGL and F_REGLECH leave."""
    report = sync_company(load(config_for(tmp_path, sage)), "acme", store, clock)
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
