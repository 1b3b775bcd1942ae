"""Accented text arrives intact in a real cp1252 column: a PostgreSQL database
in WIN1252 and a MariaDB latin1 table (MariaDB's latin1 is Windows-1252)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from notes_support import NOW, sent_keys, setup
from sageconnect.cli import main
from sageconnect.clock import FixedClock
from sageconnect.mapping.registry import PROJECT_MAPPINGS, load_file
from sageconnect.readers.odbc import OdbcSettings
from sageconnect.testing import sample_notes
from sageconnect.writeback.odbc_writer import OdbcNoteWriter
from sageconnect.writeback.text import fit
from support import build_sage, load_sage_builder, odbc_string

TEXT = "(sc:0f1e2d3c4b) envoyée : cœur d’artichaut, crème 12,50 € ; Őrség"
CREATE = {
    "postgresql": (
        "CREATE DATABASE {0} ENCODING 'WIN1252' LC_COLLATE 'C' LC_CTYPE 'C'"
        " TEMPLATE template0"
    ),
    "mariadb": "CREATE DATABASE {0} CHARACTER SET latin1",
}
DROP = {"postgresql": "DROP DATABASE IF EXISTS {0}", "mariadb": "DROP DATABASE {0}"}
BYTES = {
    "postgresql": "SELECT convert_to(ME_Commentaire, 'WIN1252') FROM F_COMPTETMEDIA",
    "mariadb": "SELECT CAST(ME_Commentaire AS BINARY) FROM F_COMPTETMEDIA",
}


@pytest.fixture(params=["postgresql", "mariadb"])
def cp1252_db(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[str, str]]:
    """(target, connection string) of a fresh cp1252 database with F_COMPTETMEDIA."""
    import pyodbc  # noqa: PLC0415 - only the ODBC tests need it

    target: str = request.param
    admin, _ = odbc_string(target, "unused", tmp_path)
    name = f"sc_cp1252_{uuid.uuid4().hex[:8]}"
    with pyodbc.connect(admin, autocommit=True) as conn:
        conn.execute(CREATE[target].format(name))
    current = admin.rsplit("Database=", 1)[1].split(";", 1)[0]
    ours = admin.replace(f"Database={current}", f"Database={name}")
    builder = load_sage_builder()
    table = replace(builder.F_COMPTETMEDIA, name="F_COMPTETMEDIA")
    with pyodbc.connect(ours, autocommit=True) as conn:
        for statement in builder.table_ddl(table, target):
            conn.execute(statement.replace("DEFAULT CHARSET=utf8mb4", "CHARSET=latin1"))
    yield target, ours
    with pyodbc.connect(admin, autocommit=True) as conn:
        conn.execute(DROP[target].format(name))


def read_back(target: str, connection: str) -> list[tuple[str, bytes]]:
    import pyodbc  # noqa: PLC0415 - only the ODBC tests need it

    with pyodbc.connect(connection, autocommit=True) as conn:
        texts = [
            str(t) for (t,) in conn.execute("SELECT ME_Commentaire FROM F_COMPTETMEDIA")
        ]
        raw: list[Any] = [bytes(b) for (b,) in conn.execute(BYTES[target])]
    return list(zip(texts, raw, strict=True))


def test_accents_are_stored_as_cp1252_bytes(cp1252_db: tuple[str, str]) -> None:
    """é è œ ’ € are stored as their Windows-1252 bytes and read back the same;
    ő, absent from cp1252, arrives as o instead of failing the write."""
    target, connection = cp1252_db
    spec = load_file(PROJECT_MAPPINGS / "sage100.toml").notes
    assert spec is not None
    writer = OdbcNoteWriter(
        spec, OdbcSettings(connection, encoding="utf-8", unicode_params=True)
    )
    note = replace(sample_notes()[0], text=fit(TEXT, spec.length, spec.encoding))
    assert not writer.exists(note)
    writer.write(note)
    assert writer.exists(note)
    writer.close()
    ((text, raw),) = read_back(target, connection)
    assert text == note.text
    assert raw == note.text.encode("cp1252")
    for letters in ("é", "è", "œ", "’", "€", "Orség"):
        assert letters in text


def test_a_cycle_writes_its_notes_to_a_cp1252_database_of_its_own(
    cp1252_db: tuple[str, str], tmp_path: Path
) -> None:
    """writeback.connection_string sends the notes to another database (the SQL
    edition, say) than the source; each arrives once, accents intact."""
    target, connection = cp1252_db
    db = build_sage("sqlite", tmp_path)
    config = setup(tmp_path, db, writeback=f'connection_string = "{connection}"')
    assert main(["run", "--once", "-c", str(config)], FixedClock(NOW)) == 0
    assert main(["writeback", "-c", str(config)], FixedClock(NOW)) == 0
    keys = sent_keys(config)
    notes = read_back(target, connection)
    assert sorted(t[:15] for t, _ in notes) == sorted(f"(sc:{k[:10]})" for k in keys)
    for text, raw in notes:
        assert raw == text.encode("cp1252")
        assert "envoyée" in text
    assert dt.date(2026, 11, 24).strftime("%d/%m/%Y") in notes[0][0]
