"""Bulk writes through the driver's own fast path, inside the caller's transaction.

COPY on PostgreSQL, executemany on the raw DBAPI connection elsewhere: no
statement compiled and no type processed per row by SQLAlchemy. Values are
given as the driver takes them (integer cents, dates, text).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection

# Explicit adapter: the sqlite3 module's default date adapter is deprecated.
sqlite3.register_adapter(dt.date, dt.date.isoformat)


def insert_rows(
    conn: Connection,
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
) -> None:
    """Insert ``rows`` (tuples in ``columns`` order) into ``table``."""
    names = ", ".join(columns)
    raw: Any = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        with raw.cursor().copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for values in rows:
                copy.write_row(values)
        return
    marks = ", ".join(["?"] * len(columns))
    cursor = raw.cursor()
    try:
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
    finally:
        cursor.close()
