"""Helpers the tests import: small FEC texts and configs."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEADER = (
    "JournalCode|JournalLib|EcritureNum|EcritureDate|CompteNum|CompteLib|CompAuxNum|"
    "CompAuxLib|PieceRef|PieceDate|EcritureLib|Debit|Credit|EcritureLet|DateLet|"
    "ValidDate|Montantdevise|Idevise"
)


def generated_fec(folder: Path, lines: int = 3000, customers: int = 40) -> Path:
    """A new ``folder`` holding one FEC of fixtures/fec/generate.py (seed 11)."""
    folder.mkdir()
    fec = folder / "900000000FEC20261231.txt"
    options = f"--lines {lines} --customers {customers} --seed 11"
    script = ROOT / "fixtures/fec/generate.py"
    subprocess.run(
        [sys.executable, str(script), *options.split(), "--out", str(fec)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return fec


def fec_lines(*rows: str, header: str = HEADER) -> str:
    """A small FEC text: the header, then rows written with | as in the FEC."""
    return "\n".join([header, *rows]) + "\n"


def write_config(folder: Path, store_url: str, source: str, extra: str = "") -> Path:
    """A config with one company 'acme' reading ``source`` into ``store_url``."""
    path = folder / "config.toml"
    path.write_text(
        f"""
[store]
url = "{store_url}"

[companies.acme]
name = "ACME SAS"

[companies.acme.source]
mapping = "fec"
path = "{source}"
{extra}
""",
        encoding="utf-8",
    )
    return path


def csv_company(folder: Path, store_url: str, customers: str, entries: str) -> Path:
    """A config with one company 'acme' read through the generic csv mapping
    from ``customers`` and ``entries`` (the files' text)."""
    src = folder / "src"
    src.mkdir()
    (src / "customers.csv").write_text(customers, encoding="utf-8")
    (src / "entries.csv").write_text(entries, encoding="utf-8")
    path = folder / "config.toml"
    path.write_text(
        f'[store]\nurl = "{store_url}"\n[companies.acme]\nname = "ACME"\n'
        '[companies.acme.source]\nmapping = "csv"\npath = "src"\n',
        encoding="utf-8",
    )
    return path


def load_bank_builder() -> Any:
    """fixtures/bank/build.py as a module (fixtures are scripts, not a package)."""
    path = ROOT / "fixtures" / "bank" / "build.py"
    spec = importlib.util.spec_from_file_location("bank_build", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bank_build"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def load_sage_builder() -> Any:
    """fixtures/sage100/build.py as a module (it is a script, not a package)."""
    path = ROOT / "fixtures" / "sage100" / "build.py"
    spec = importlib.util.spec_from_file_location("sage100_build", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["sage100_build"] = module
    spec.loader.exec_module(module)
    return module


@dataclass
class SageDb:
    """A Sage-100-shaped database reachable through ODBC."""

    target: str
    name: str  # the schema (PostgreSQL), database (MariaDB) or file stem (SQLite)
    connection_string: str  # what sageconnect is given
    admin: Callable[[], Any]  # a fresh pyodbc connection with autocommit on
    summary: Any

    @property
    def source_settings(self) -> str:
        """Config lines for this source; SQLite's driver hands back UTF-8 bytes."""
        lines = f'connection_string = "{self.connection_string}"\n'
        return lines + ('encoding = "utf-8"\n' if self.target == "sqlite" else "")


def odbc_string(target: str, name: str, tmp_path: Path) -> tuple[str, str]:
    """(admin connection string, sageconnect connection string) for a target."""
    if target == "sqlite":
        path = tmp_path / f"{name}.db"
        text = f"Driver={{SQLite3}};Database={path}"
        return text, text
    url = os.environ.get(ODBC_ENV[target])
    if not url:
        pytest.skip(f"no {target}: set {ODBC_ENV[target]}")
    parts = urlsplit(url)
    if target == "postgresql":
        base = (
            f"Driver={{PostgreSQL Unicode}};Servername={parts.hostname};Port={parts.port or 5432};"
            f"Database={parts.path.lstrip('/')};Username={parts.username or 'postgres'}"
        )
        return (
            base,
            f"{base};UseDeclareFetch=1;Fetch=2000;ConnSettings=SET search_path TO {name}",
        )
    base = (
        f"Driver={{MariaDB Unicode}};Server={parts.hostname};Port={parts.port or 3306};"
        f"User={parts.username or 'root'}"
    )
    return f"{base};Database={parts.path.lstrip('/')}", f"{base};Database={name}"


ODBC_ENV = {"postgresql": "SAGECONNECT_TEST_PG", "mariadb": "SAGECONNECT_TEST_MARIADB"}
ODBC_DRIVERS = {
    "sqlite": "SQLite3",
    "postgresql": "PostgreSQL Unicode",
    "mariadb": "MariaDB Unicode",
}


def build_sage(
    target: str, tmp_path: Path, *, customers: int = 120, entries: int = 1500
) -> SageDb:
    """Build a seeded Sage 100 database for ``target`` under a fresh, unique name."""
    try:
        import pyodbc  # noqa: PLC0415 - only the ODBC tests need it
    except ImportError as exc:
        pytest.skip(f"pyodbc cannot load: {exc}")
    if ODBC_DRIVERS[target] not in pyodbc.drivers():
        pytest.skip(f"ODBC driver {ODBC_DRIVERS[target]!r} not installed (see .ci/run)")
    builder = load_sage_builder()
    name = f"sage_{uuid.uuid4().hex[:10]}"
    admin_string, ours = odbc_string(target, name, tmp_path)
    if target == "sqlite":
        conn = builder.connect("sqlite", path=tmp_path / f"{name}.db")
    else:
        conn = builder.connect(
            target, dsn_string=admin_string, schema=name, database=name
        )
    summary = builder.build(
        conn, target, customers=customers, entries=entries, seed=100
    )
    conn.close()

    def admin() -> Any:
        return pyodbc.connect(ours, autocommit=True)

    return SageDb(target, name, ours, admin, summary)


def drop_sage(db: SageDb) -> None:
    """Drop a PostgreSQL schema or MariaDB database made by build_sage."""
    if db.target == "sqlite":
        return
    import pyodbc  # noqa: PLC0415 - only the ODBC tests need it

    admin_string, _ = odbc_string(db.target, db.name, Path())
    kind = "SCHEMA" if db.target == "postgresql" else "DATABASE"
    cascade = " CASCADE" if db.target == "postgresql" else ""
    with pyodbc.connect(admin_string, autocommit=True) as conn:
        conn.execute(f"DROP {kind} IF EXISTS {db.name}{cascade}")
