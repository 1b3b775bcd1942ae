"""ODBC sources through pyodbc: connect, bind, stream; imported only when used.

A fresh connection per read (no pooling: a daemon must never reuse a connection
that died while idle), a login timeout and a query timeout, text decoded with the
source's code page (Sage's ANSI drivers and SQL Server ``varchar`` are cp1252),
decimals parsed with a ``.`` separator whatever the process locale, and rows
fetched ``fetch_size`` at a time so memory stays flat on millions of rows.
"""

from __future__ import annotations

import contextlib
import functools
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Self, TypeVar

from sageconnect.errors import SourceUnavailable

T = TypeVar("T")

# SQLSTATE classes after which the same read may well succeed later.
TRANSIENT_STATES = ("08", "HYT", "40001", "HY008", "57P")
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_ ]{0,127}$")


@dataclass(frozen=True, slots=True)
class OdbcSettings:
    """How to reach one ODBC source; the password is passed apart and never logged."""

    connection_string: str
    password: str | None = field(default=None, repr=False)
    login_timeout: int = 15
    query_timeout: int = 600
    encoding: str = "utf-8"
    fetch_size: int = 5000
    name: str = "odbc"
    # Text parameters as UTF-16 (SQL_C_WCHAR), converted by the driver or the
    # driver manager into the column's code page (a writer's choice)
    unicode_params: bool = False


class OdbcSource:
    """An open ODBC connection, and queries streamed from it."""

    def __init__(self, settings: OdbcSettings) -> None:
        self.settings = settings
        self._conn: Any = None
        self.query_timeout_supported = False

    def __enter__(self) -> Self:
        pyodbc = _pyodbc()
        conn_str = self.settings.connection_string
        if self.settings.password is not None:
            conn_str = (
                f"{conn_str.rstrip(';')};PWD={{{_braced(self.settings.password)}}}"
            )
        try:
            self._conn = pyodbc.connect(
                conn_str, timeout=self.settings.login_timeout, autocommit=True
            )
        except pyodbc.Error as exc:
            raise unavailable(self.settings.name, exc) from None
        try:
            self._conn.timeout = self.settings.query_timeout
            self.query_timeout_supported = True
        except pyodbc.Error:
            # psqlODBC refuses the attribute; the caller's watchdog still applies.
            self.query_timeout_supported = False
        encoding = self.settings.encoding
        self._conn.setdecoding(pyodbc.SQL_CHAR, encoding=encoding)
        if encoding.replace("-", "").lower() in ("utf8", "utf8mb4"):
            self._conn.setdecoding(pyodbc.SQL_WCHAR, encoding="utf-8")
            self._conn.setencoding(encoding="utf-8")
        else:
            self._conn.setencoding(encoding=encoding)
        if self.settings.unicode_params:
            self._conn.setencoding(encoding="utf-16le", ctype=pyodbc.SQL_WCHAR)
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except _pyodbc().Error:
                pass  # a connection that died is already closed for our purpose
            self._conn = None

    def quote(self, identifier: str) -> str:
        """Quote a table or column name from a mapping, after checking its shape."""
        if not IDENTIFIER.match(identifier):
            raise ValueError(f"not a plain identifier: {identifier!r}")
        quote = self._conn.getinfo(_pyodbc().SQL_IDENTIFIER_QUOTE_CHAR) or '"'
        closing = "]" if quote == "[" else quote
        return f"{quote}{identifier}{closing}"

    def columns(self, sql: str, params: Sequence[Any] = ()) -> list[str]:
        """The columns a query returns, without reading its rows."""
        return self._once(sql, params, lambda c: [d[0] for d in c.description])

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one INSERT or UPDATE (committed on its own); the rows it touched."""
        return self._once(sql, params, lambda c: int(c.rowcount))

    def _once(self, sql: str, params: Sequence[Any], take: Callable[[Any], T]) -> T:
        """One statement under the watchdog; ``take`` reads what it gave."""
        pyodbc = _pyodbc()
        cursor = self._conn.cursor()
        try:
            with _Watchdog(
                cursor,
                None if self.query_timeout_supported else self.settings.query_timeout,
            ):
                cursor.execute(sql, *params)
                return take(cursor)
        except pyodbc.Error as exc:
            raise unavailable(self.settings.name, exc) from None
        finally:
            cursor.close()

    def rows(
        self, sql: str, params: Sequence[Any] = ()
    ) -> Iterator[tuple[list[str], Any]]:
        """Yield (column names, row) for each row (see ``batches``)."""
        for names, batch in self.batches(sql, params):
            for row in batch:
                yield names, row

    def batches(
        self, sql: str, params: Sequence[Any] = ()
    ) -> Iterator[tuple[list[str], list[Any]]]:
        """Yield (column names, rows) for each batch fetched; values bound.

        Where the driver refuses a query timeout (psqlODBC), a watchdog cancels the
        statement when nothing has come for ``query_timeout`` seconds (waiting for
        the query, or between two batches).
        """
        pyodbc = _pyodbc()
        cursor = self._conn.cursor()
        # Only where the driver ignores its query timeout: cancelling from another
        # thread crashes some drivers (MariaDB Connector/ODBC 3.1 segfaults).
        seconds = None if self.query_timeout_supported else self.settings.query_timeout
        watchdog = _Watchdog(cursor, seconds)
        try:
            with watchdog:
                cursor.execute(sql, *params)
                names = [d[0] for d in cursor.description]
                watchdog.reset()
                while batch := cursor.fetchmany(self.settings.fetch_size):
                    watchdog.reset()
                    yield names, batch
                    del batch  # not held while the next one is fetched
            cursor.close()
        except pyodbc.Error as exc:
            if watchdog.fired:
                raise SourceUnavailable(
                    self.settings.name,
                    f"no answer for {self.settings.query_timeout} s: cancelled",
                    transient=True,
                ) from None
            raise unavailable(self.settings.name, exc) from None


class _Watchdog:
    """Cancels a cursor's statement after ``seconds`` without progress."""

    def __init__(self, cursor: Any, seconds: float | None) -> None:
        self.cursor = cursor
        self.seconds = seconds
        self.fired = False
        self._timer: threading.Timer | None = None

    def _fire(self) -> None:
        self.fired = True
        with contextlib.suppress(Exception):  # the statement may just have ended
            self.cursor.cancel()

    def _stop(self) -> None:
        # Wait for a firing timer: cancelling on a handle the caller is about to
        # free crashes the driver.
        if self._timer is not None:
            self._timer.cancel()
            self._timer.join()

    def reset(self) -> None:
        self._stop()
        if self.seconds is None:
            return
        self._timer = threading.Timer(self.seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def __enter__(self) -> Self:
        self.reset()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop()


def unavailable(source: str, exc: Exception) -> SourceUnavailable:
    """A pyodbc error as SourceUnavailable: SQLSTATE and message, never the DSN."""
    state = str(exc.args[0]) if exc.args else ""
    message = str(exc.args[1]) if len(exc.args) > 1 else str(exc)
    error = SourceUnavailable(
        source,
        f"[{state}] {message[:300]}",
        transient=_transient(state, message),
    )
    error.sqlstate = state
    return error


_PERMANENT = re.compile(
    r"does not exist|authentication failed|access denied|unknown database"
    r"|password|not found|invalid|permission",
    re.IGNORECASE,
)
_TRANSIENT = re.compile(
    r"can't connect|could not connect|connection refused|server has gone away"
    r"|lost connection|timeout|timed out|terminating connection|communication link",
    re.IGNORECASE,
)


def _transient(state: str, message: str) -> bool:
    """Worth retrying later? What drivers say in words, then the SQLSTATE.

    psqlODBC reports an unknown database as 08001 (permanent, despite its class);
    MariaDB reports a server that is down as HY000 (transient).
    """
    if _PERMANENT.search(message):
        return False
    return state.startswith(TRANSIENT_STATES) or bool(_TRANSIENT.search(message))


def _braced(value: str) -> str:
    return value.replace("}", "}}")


@functools.cache
def _pyodbc() -> Any:
    """Import pyodbc once, with pooling off and a locale-proof decimal point.

    Pooling is a process-wide setting that may change only before the first
    connection: it is set here, exactly once.
    """
    try:
        import pyodbc  # noqa: PLC0415 - lazy: the FEC path must run without unixODBC
    except ImportError as exc:
        raise SourceUnavailable(
            "odbc", f"pyodbc cannot load ({exc}); install unixODBC (libodbc2)"
        ) from exc
    pyodbc.pooling = False
    pyodbc.setDecimalSeparator(".")
    return pyodbc
