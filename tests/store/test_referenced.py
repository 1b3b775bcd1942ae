"""Writes whose references hold by construction skip PostgreSQL's per-row checks."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from sageconnect.clock import FixedClock
from sageconnect.config import load
from sageconnect.jobs import sync_company
from sageconnect.store.bulk import referenced
from sageconnect.store.engine import open_store
from support import fec_lines, write_config

LINES = [
    "VE|Ventes|1|20260105|41100000|Clients|C1|Café|FA1|20260105|Facture FA1|1200,00|0,00|A|20260210|20260105||",
    "VE|Ventes|1|20260105|70600000|Prestations|||FA1|20260105|Facture FA1|0,00|1200,00|||20260105||",
    "VE|Ventes|2|20260110|41100000|Clients|C2|Bar|FA2|20260110|Facture FA2|600,00|0,00|||20260110||",
    "VE|Ventes|2|20260110|70600000|Prestations|||FA2|20260110|Facture FA2|0,00|600,00|||20260110||",
    "BQ|Banque|3|20260210|51200000|Banque|||REL1|20260210|Virement|1200,00|0,00|||20260210||",
    "BQ|Banque|3|20260210|41100000|Clients|C1|Café|REL1|20260210|Virement FA1|0,00|1200,00|A|20260210|20260210||",
    "BQ|Banque|4|20260215|51200000|Banque|||REL2|20260215|Virement|100,00|0,00|||20260215||",
    "BQ|Banque|4|20260215|41100000|Clients|C2|Bar|REL2|20260215|Acompte FA2|0,00|100,00|||20260215||",
]

# every foreign key the sync's bulk writes carry, as (table, column, referenced)
REFERENCES = [
    ("customers", "company_id", "companies"),
    ("invoices", "company_id", "companies"),
    ("invoices", "customer_id", "customers"),
    ("payments", "company_id", "companies"),
    ("payments", "customer_id", "customers"),
    ("source_entries", "company_id", "companies"),
    ("allocations", "company_id", "companies"),
    ("allocations", "customer_id", "customers"),
    ("allocations", "invoice_id", "invoices"),
    ("allocations", "payment_id", "payments"),
    ("allocations", "credit_note_id", "invoices"),
]


def role(conn: Connection) -> str:
    return str(conn.exec_driver_sql("SHOW session_replication_role").scalar())


def test_checks_are_skipped_inside_and_enforced_again_after(pg_url: str) -> None:
    engine = open_store(pg_url)
    try:
        with engine.begin() as conn:
            with referenced(conn):
                assert role(conn) == "replica"
            assert role(conn) == "origin"
            with pytest.raises(IntegrityError, match="fk_source_entries_company_id"):
                conn.exec_driver_sql(
                    "INSERT INTO source_entries (company_id, digest) VALUES (999, 1)"
                )
    finally:
        engine.dispose()


def test_a_role_without_the_right_keeps_the_checks(pg_url: str) -> None:
    """Not a superuser, not granted the setting: nothing changes, nothing fails."""
    engine = open_store(pg_url)
    name = f"sc_plain_{uuid.uuid4().hex[:8]}"
    try:
        with engine.connect() as conn, conn.begin() as transaction:
            conn.exec_driver_sql(f"CREATE ROLE {name} NOSUPERUSER")  # rolled back
            conn.exec_driver_sql(f"SET LOCAL ROLE {name}")
            with referenced(conn):
                assert role(conn) == "origin"
            transaction.rollback()
    finally:
        engine.dispose()


def test_nothing_a_sync_wrote_names_a_missing_row(
    tmp_path: Path, store_url: str, engine: Engine, clock: FixedClock
) -> None:
    """Every id the bulk writes stored exists, on either store, with checks skipped."""
    folder = tmp_path / "fec"
    folder.mkdir()
    (folder / "123FEC20261231.txt").write_text(fec_lines(*LINES), encoding="utf-8")
    config = load(write_config(tmp_path, store_url, str(folder)))
    report = sync_company(config, "acme", engine, clock)
    assert (report.inserted, report.rejected) == (6, 0)  # 2 customers, 2 + 2 items
    with engine.connect() as conn:
        counts = {
            table: conn.exec_driver_sql(f"SELECT COUNT(*) FROM {table}").scalar()
            for table in ("source_entries", "allocations")
        }
        dangling = {
            (table, column): conn.exec_driver_sql(
                f"SELECT COUNT(*) FROM {table} x WHERE x.{column} IS NOT NULL"
                f" AND NOT EXISTS (SELECT 1 FROM {target} t WHERE t.id = x.{column})"
            ).scalar()
            for table, column, target in REFERENCES
        }
    assert counts == {"source_entries": 4, "allocations": 2}  # lettered, matched
    assert set(dangling.values()) == {0}
