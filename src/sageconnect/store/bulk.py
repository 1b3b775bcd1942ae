"""Bulk writes through the driver's own fast path, inside the caller's transaction.

COPY on PostgreSQL, executemany on the raw DBAPI connection elsewhere: no
statement compiled and no type processed per row by SQLAlchemy. Values are
given as the driver takes them (integer cents, dates, text).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Generator, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Executable, text

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


def temp_table(conn: Connection, name: str, columns: str) -> None:
    """A new, empty temporary table ``name`` (``columns``: its SQL definition)."""
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
    conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {name} ({columns})")


def temp_table_as(
    conn: Connection, name: str, query: str, params: dict[str, Any] | None = None
) -> None:
    """A new temporary table ``name`` holding the rows of ``query`` (SQL text,
    with ``params`` bound), its columns typed as the query gives them."""
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
    conn.execute(text(f"CREATE TEMPORARY TABLE {name} AS {query}"), params or {})


def analyze(conn: Connection, *tables: str, columns: Sequence[str] = ()) -> None:
    """Statistics for tables just filled, on PostgreSQL: autovacuum never sees a
    temporary table, and a table filled in this transaction is not seen yet.

    ``columns``: only those (the row count is always taken): the statistics of
    a column cost a sort of its sampled values, and a staging table's plans
    depend on its keys alone (a first sync's 214 000 staged invoices: 0.07 s
    for key and customer, 0.21 s for all fifteen columns)."""
    if conn.dialect.name == "postgresql":
        listed = f" ({', '.join(columns)})" if columns else ""
        for table in tables:
            conn.exec_driver_sql(f"ANALYZE {table}{listed}")


FETCH = 5000  # rows fetched at a time by driver_rows


def driver_rows(
    conn: Connection,
    statement: Executable,
    params: dict[str, Any],
    *,
    stream: bool = False,
) -> Generator[tuple[Any, ...], None, None]:
    """The rows of a query as the driver gives them, a batch at a time.

    SQLAlchemy compiles and runs the statement (bound and expanding parameters
    as usual); the rows are then fetched from its DBAPI cursor as the driver's
    own tuples, without a Row object or a type conversion each: for reads of
    hundreds of thousands of rows whose columns the caller converts itself.

    With ``stream``, the rows are read as they come on PostgreSQL too (a
    server-side cursor: its client cursor would hold them all), for a caller
    that keeps only a part of them at a time; SQLite reads them so anyway.
    """
    if stream and conn.dialect.name == "postgresql":
        statement = statement.execution_options(
            stream_results=True, max_row_buffer=FETCH
        )
        streamed = conn.execute(statement, params)
        try:
            yield from (tuple(row) for row in streamed)
        finally:
            streamed.close()  # the server-side cursor, even when not read to the end
        return
    options = conn.get_execution_options()
    if options.get("stream_results") or options.get("yield_per"):
        # a streamed result holds rows in SQLAlchemy's buffer, not the cursor's
        yield from (tuple(row) for row in conn.execute(statement, params))
        return
    result = conn.execute(statement, params)
    cursor = result.cursor
    try:
        while rows := cursor.fetchmany(FETCH):
            yield from rows
    finally:
        result.close()


FRESH = 1000  # rows written to a table before PostgreSQL's statistics lag


class Growth:
    """Keep PostgreSQL's statistics of a table that a loop fills in step with it.

    A table filled chunk by chunk inside one transaction is never analysed by
    autovacuum before the commit: the plans of the next chunks would still see
    the table as it was (often empty), and scan all of it for each chunk, a cost
    that grows with the square of its size. ANALYZE is run again each time the
    rows written since the last one pass the size it last saw (so a few times
    in all, however large the table gets). Nothing to do on other databases.
    """

    def __init__(self, conn: Connection, table: str) -> None:
        self.conn = conn
        self.table = table
        self.active = conn.dialect.name == "postgresql"
        self.seen = 0.0
        self.pending = 0
        if self.active:
            found = conn.exec_driver_sql(
                f"SELECT reltuples FROM pg_class WHERE oid = '{table}'::regclass"
            ).scalar()
            self.seen = max(float(found or 0), 0.0)  # -1: never analysed

    def wrote(self, rows: int) -> None:
        """Count ``rows`` written (inserted or deleted); ANALYZE when they add up."""
        if not self.active:
            return
        self.pending += rows
        if self.pending > max(FRESH, self.seen):
            self.conn.exec_driver_sql(f"ANALYZE {self.table}")
            self.seen += self.pending
            self.pending = 0


@contextmanager
def filling(conn: Connection, table: str, source: str | None = None) -> Iterator[bool]:
    """A statement that fills ``table``: when the table holds no row at all (a new
    store's first sync), its secondary indexes are built once the rows are in.

    Inserting a million rows into an index in random order (a customer index
    filled in ledger order) costs more, the more the index outgrows the page
    cache, than sorting them once: on a 5M-line first sync, 6.0 s against 3.3 s
    for the invoices alone. The indexes are dropped and created again from
    their own definitions, as the store states them, in the caller's
    transaction: an error rolls the drop back with the rest. Unique and primary
    keys stay (constraints check the rows as they come). On PostgreSQL the drop
    locks the table until the commit: only a table with no row is touched.
    ``source``: the table the rows come from; nothing is done when it has none.
    Gives whether the indexes are built after (the rows may come in any order).

    A table so filled with more than FRESH rows is analysed (PostgreSQL) once its
    indexes are back: its statistics were those of an empty table, and building
    an index sets its row count, which keeps :class:`Growth` from seeing that
    they are missing.
    """
    idle = _has_rows(conn, table) or (source and not _has_rows(conn, source))
    indexes = [] if idle else _secondary_indexes(conn, table)
    for name, _ in indexes:
        conn.exec_driver_sql(f"DROP INDEX {name}")
    yield bool(indexes)
    for _, definition in indexes:
        conn.exec_driver_sql(definition)
    if indexes and Growth(conn, table).seen > FRESH:  # the row count just built
        analyze(conn, table)


def _has_rows(conn: Connection, table: str) -> bool:
    return conn.exec_driver_sql(f"SELECT 1 FROM {table} LIMIT 1").first() is not None


def _secondary_indexes(conn: Connection, table: str) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the table's indexes that back no constraint."""
    if conn.dialect.name == "postgresql":
        sql = (
            "SELECT CAST(x.indexrelid AS regclass)::text,"
            " pg_get_indexdef(x.indexrelid) FROM pg_index x"
            " WHERE x.indrelid = CAST(%(table)s AS regclass) AND NOT EXISTS"
            " (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)"
            " ORDER BY 1"
        )
        found = conn.exec_driver_sql(sql, {"table": table})
    elif conn.dialect.name == "sqlite":
        found = conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index'"
            " AND tbl_name = ? AND sql IS NOT NULL ORDER BY name",
            (table,),
        )
    else:
        return []
    return [(str(name), str(definition)) for name, definition in found]


@contextmanager
def referenced(conn: Connection) -> Iterator[None]:
    """Writes whose references hold by construction: PostgreSQL skips checking them.

    For statements that insert rows naming only ids they read in the same
    transaction (a join, a lookup) from tables the store never deletes from
    (companies, customers, invoices, payments): the foreign keys cannot fail,
    yet PostgreSQL checks each of them row by row (a query and a lock per row
    and key, about half the time of a merge's INSERT). Where the role may set
    ``session_replication_role`` (a superuser, or granted it: PostgreSQL 15's
    ``GRANT SET ON PARAMETER``), it is ``replica`` for the block: no trigger,
    so no foreign-key check, fires; it is put back after. Elsewhere (SQLite,
    or a role without the right) nothing changes and the checks run.
    """
    previous = _replication_role(conn)
    if previous is None or previous == "replica":
        yield
        return
    conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
    yield  # on an error the transaction is lost, and the setting with it
    conn.exec_driver_sql(f"SET LOCAL session_replication_role = {previous}")


def _replication_role(conn: Connection) -> str | None:
    """The session's replication role, if it may change it; else None."""
    if conn.dialect.name != "postgresql":
        return None
    allowed = "current_setting('is_superuser') = 'on'"
    if (conn.dialect.server_version_info or (0,)) >= (15,):
        allowed = "has_parameter_privilege('session_replication_role', 'SET')"
    role, may = conn.exec_driver_sql(
        f"SELECT current_setting('session_replication_role'), {allowed}"
    ).one()
    return str(role) if may else None
