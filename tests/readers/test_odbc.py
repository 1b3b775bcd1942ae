"""The ODBC reader against real drivers: errors told apart, nothing secret in them."""

from __future__ import annotations

import os

import pytest

from sageconnect.errors import SourceUnavailable
from sageconnect.readers.odbc import OdbcSettings, OdbcSource

pyodbc = pytest.importorskip("pyodbc", reason="pyodbc needs unixODBC (see .ci/run)")
PG = "Driver={PostgreSQL Unicode};Servername=127.0.0.1;Username=postgres"
MARIADB = "Driver={MariaDB Unicode};Server=127.0.0.1;User=root"


def fail(connection_string: str, password: str | None = None) -> SourceUnavailable:
    with (
        pytest.raises(SourceUnavailable) as caught,
        OdbcSource(OdbcSettings(connection_string, password=password, login_timeout=3)),
    ):
        pass
    return caught.value


@pytest.fixture
def servers() -> None:
    if not (
        os.environ.get("SAGECONNECT_TEST_PG")
        and os.environ.get("SAGECONNECT_TEST_MARIADB")
    ):
        pytest.skip("no servers: set SAGECONNECT_TEST_PG and SAGECONNECT_TEST_MARIADB")
    if not {"PostgreSQL Unicode", "MariaDB Unicode"} <= set(pyodbc.drivers()):
        pytest.skip("ODBC drivers not installed (see .ci/run)")


def test_a_server_that_is_down_is_worth_retrying(servers: None) -> None:
    """A closed port is transient on psqlODBC (08001) and on MariaDB (HY000, error 2002)."""
    assert fail(f"{PG};Port=5499;Database=test").transient
    assert fail(f"{MARIADB};Port=3399").transient


def test_a_wrong_database_or_role_is_not(servers: None) -> None:
    """An unknown database or role will not fix itself: it is reported as permanent."""
    assert not fail(f"{PG};Port=5432;Database=no_such_db").transient
    assert not fail(f"{PG};Port=5432;Database=test;Username=no_such_role").transient


def test_the_password_never_shows_in_the_error(servers: None) -> None:
    """A refused login names the server, never the password given."""
    error = fail(
        f"{MARIADB};Port=3306;Database=test;User=no_such_user", password="canary-pw"
    )
    assert "canary" not in str(error)
    assert "canary" not in repr(OdbcSettings("DSN=x", password="canary-pw"))
