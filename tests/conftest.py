"""Shared fixtures: a clock, stores on SQLite and PostgreSQL, small FEC files."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog
from sqlalchemy import Engine, create_engine, text

from sageconnect.clock import FixedClock
from sageconnect.store.engine import open_store
from servers import provider, smtp_server  # noqa: F401 - fixtures for every test
from support import ROOT, SageDb, build_sage, drop_sage, load_bank_builder

PG_ENV = "SAGECONNECT_TEST_PG"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(dt.datetime(2026, 11, 24, 8, 0, tzinfo=dt.UTC))


@pytest.fixture(autouse=True)
def _quiet_logs() -> Iterator[None]:
    """Each test starts with structlog's defaults, whatever the last one configured."""
    yield
    structlog.reset_defaults()


def _pg_url() -> str | None:
    return os.environ.get(PG_ENV) or None


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL on a fresh schema, dropped afterwards."""
    base = _pg_url()
    if base is None:
        pytest.skip(f"no PostgreSQL: set {PG_ENV}=postgresql://user@host:port/db")
    schema = f"sc_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The store URL for each backend the store must work on."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    engine = open_store(store_url)
    yield engine
    engine.dispose()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite the golden files of mappers",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def sage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SageDb]:
    """A seeded Sage 100 database behind each of the three ODBC drivers."""
    db = build_sage(request.param, tmp_path)
    yield db
    drop_sage(db)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Engine]:
    """An empty SQLite store, for tests whose subject is the source."""
    engine = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def build() -> Any:
    """The statement writers of fixtures/bank/build.py."""
    return load_bank_builder()


@pytest.fixture(scope="session")
def samples() -> Path:
    """The hand-written bank statements of fixtures/bank/samples."""
    return ROOT / "fixtures" / "bank" / "samples"
