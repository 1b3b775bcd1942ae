from __future__ import annotations

import datetime as dt
from decimal import Decimal

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, func, insert, select, text

from sageconnect.store.engine import HEAD, MIGRATIONS, open_store, revision, upgrade
from sageconnect.store.tables import companies, customers, invoices, metadata


def test_migrations_build_exactly_the_declared_schema(engine: Engine) -> None:
    """After upgrade, the database matches the tables in code: no drift, no missing index."""
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_upgrading_twice_changes_nothing(store_url: str) -> None:
    """Opening an up-to-date store runs no migration and keeps the data."""
    engine = open_store(store_url)
    with engine.begin() as conn:
        conn.execute(insert(companies).values(code="x", name="X", currency="EUR"))
    upgrade(engine)
    engine.dispose()
    again = open_store(store_url)
    with again.connect() as conn:
        assert (
            conn.execute(select(func.count()).select_from(companies)).scalar_one() == 1
        )
    again.dispose()


def test_head_is_the_newest_migration() -> None:
    """A store at HEAD skips alembic: HEAD must be the newest migration script."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(cfg).get_current_head() == HEAD


def test_a_store_behind_head_is_upgraded_on_open(store_url: str) -> None:
    """The shortcut for an up-to-date store does not skip a store one migration behind."""
    engine = open_store(store_url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "-1")
    assert revision(engine) not in (None, HEAD)
    engine.dispose()
    again = open_store(store_url)
    assert revision(again) == HEAD
    with again.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
    again.dispose()


def test_amounts_are_exact_to_the_cent(engine: Engine) -> None:
    """Ten invoices of 0.10 sum to exactly 1.00 (SQLite would store Numeric as floats)."""
    with engine.begin() as conn:
        conn.execute(insert(companies).values(code="x", name="X", currency="EUR"))
        company = conn.execute(select(companies.c.id)).scalar_one()
        customer = conn.execute(
            insert(customers).values(
                company_id=company,
                code="C",
                name="C",
                account="411",
                language="fr",
                dunning_excluded=False,
                first_run_id=1,
                changed_run_id=1,
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        conn.execute(
            insert(invoices),
            [
                {
                    "company_id": company,
                    "customer_id": customer,
                    "key": f"k{i}",
                    "number": "F",
                    "kind": "invoice",
                    "issued": dt.date(2026, 1, 1),
                    "due": dt.date(2026, 1, 31),
                    "due_source": "terms",
                    "amount": Decimal("0.10"),
                    "currency": "EUR",
                    "journal": "VE",
                    "label": "",
                    "first_run_id": 1,
                    "changed_run_id": 1,
                }
                for i in range(10)
            ],
        )
        total = conn.execute(select(func.sum(invoices.c.amount))).scalar_one()
        raw = conn.execute(text("SELECT SUM(amount) FROM invoices")).scalar_one()
    assert total == Decimal("1.00")
    assert raw == 100
