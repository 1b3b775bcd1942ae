"""Rows straight from the driver's cursor: every row, whatever the connection's options."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text

from sageconnect.store.bulk import driver_rows

ROWS = text(
    "SELECT n FROM (SELECT 1 AS n UNION ALL SELECT 2 UNION ALL SELECT 3) t ORDER BY n"
)


@pytest.mark.parametrize(
    "options",
    [{}, {"stream_results": True}, {"yield_per": 2}],
    ids=["plain", "stream_results", "yield_per"],
)
def test_every_row_comes_as_a_tuple(engine: Engine, options: dict[str, object]) -> None:
    """A connection set to stream its results (a server-side cursor on
    PostgreSQL, whose first row SQLAlchemy would buffer) still gives every row."""
    with engine.connect() as conn:
        rows = list(driver_rows(conn.execution_options(**options), ROWS, {}))
    assert rows == [(1,), (2,), (3,)]
    assert all(type(row) is tuple for row in rows)
