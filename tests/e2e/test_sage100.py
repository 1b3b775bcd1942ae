"""Sage 100 over ODBC, end to end, through three real drivers (SQLite, psqlODBC, MariaDB)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from sageconnect.clock import FixedClock
from sageconnect.config import Config, load
from sageconnect.jobs import build_mapper, sync_company
from sageconnect.mapping.documents import record
from sageconnect.mapping.entries import EntriesReading
from sageconnect.model.records import Invoice, Payment
from sageconnect.store.engine import open_store
from sageconnect.store.queries import balances, company_ids
from sageconnect.store.tables import (
    allocations,
    checkpoints,
    contacts,
    customers,
    invoices,
    payments,
)
from support import SageDb, fec_lines, write_config

# Sage's balance: every customer line, but opening lines only in the first period
# (later ones repeat lines still in the table: fixtures/sage100/README.md).
SUM_SQL = """
SELECT e.CT_Num, SUM(CASE WHEN e.EC_Sens = 0 THEN e.EC_Montant ELSE -e.EC_Montant END)
FROM F_ECRITUREC e JOIN F_COMPTET t ON t.CT_Num = e.CT_Num
WHERE t.CT_Type = 0
  AND (e.EC_ANType = 0 OR e.JM_Date <= (SELECT MIN(f.JM_Date) FROM F_ECRITUREC f))
GROUP BY e.CT_Num
"""


def config_for(tmp_path: Path, db: SageDb, extra: str = "") -> Config:
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[store]
url = "sqlite:///{tmp_path / "store.db"}"
[companies.acme]
name = "ACME"
[companies.acme.source]
mapping = "sage100"
{db.source_settings}{extra}
""",
        encoding="utf-8",
    )
    return load(path)


def source_sums(db: SageDb) -> dict[str, Decimal]:
    """Debit - credit per customer, summed by the source database itself."""
    with db.admin() as conn:
        rows = conn.execute(SUM_SQL).fetchall()
    return {
        str(code).strip(): Decimal(
            repr(total) if isinstance(total, float) else str(total)
        ).quantize(Decimal("0.01"))
        for code, total in rows
    }


def store_balances(engine: Engine, clock: FixedClock) -> dict[str, Decimal]:
    with engine.connect() as conn:
        rows = balances(conn, company_ids(conn)["acme"], clock.now().date())
    return {b.code: b.ledger_balance for b in rows}


def test_balances_equal_a_sum_in_the_source(
    sage: SageDb, tmp_path: Path, store: Engine, clock: FixedClock
) -> None:
    """After a sync, every customer's balance equals the source's own SQL sum, to the cent."""
    report = sync_company(config_for(tmp_path, sage), "acme", store, clock)
    assert (report.status, report.full_read) == ("completed", True)
    expected = source_sums(sage)
    found = store_balances(store, clock)
    assert len(found) == sage.summary.customers
    assert {c: v for c, v in found.items() if c in expected} == expected
    assert all(v == 0 for c, v in found.items() if c not in expected)
    assert expected == {c: v for c, v in sage.summary.balances.items() if c in expected}
    assert any(sage.summary.carried.values()), "the fixture carries items into 2026"


def test_a_second_sync_reads_only_what_changed(
    sage: SageDb, tmp_path: Path, store: Engine, clock: FixedClock
) -> None:
    """The next sync reads the look-back window only, and changes nothing."""
    config = config_for(tmp_path, sage)
    first = sync_company(config, "acme", store, clock)
    second = sync_company(config, "acme", store, clock)
    assert not second.full_read
    assert second.read < first.read / 10
    assert (second.inserted, second.updated, second.closed) == (0, 0, 0)


def copy_entry(conn: Any, source_no: int, new_no: int, **changes: Any) -> None:
    """Insert a copy of an F_ECRITUREC line with another EC_No and the given changes."""
    cursor = conn.execute("SELECT * FROM F_ECRITUREC WHERE EC_No = ?", source_no)
    names = [d[0] for d in cursor.description]
    row = dict(zip(names, cursor.fetchone(), strict=True))
    lower = {k.lower(): k for k in row}
    del row[lower["cbmarq"]]
    row[lower["ec_no"]] = new_no
    for key, value in changes.items():
        row[lower[key.lower()]] = value
    cols = ", ".join(row)
    conn.execute(
        f"INSERT INTO F_ECRITUREC ({cols}) VALUES ({', '.join('?' * len(row))})",
        *row.values(),
    )


def stamp(db: SageDb, when: dt.datetime) -> Any:
    return when.strftime("%Y-%m-%d %H:%M:%S") if db.target == "sqlite" else when


def test_changes_in_the_source_are_all_reflected(
    sage: SageDb, tmp_path: Path, store: Engine, clock: FixedClock
) -> None:
    """A new entry, a re-lettering, a late commit at the checkpoint and a deletion all arrive."""
    config = config_for(tmp_path, sage)
    sync_company(config, "acme", store, clock)
    with sage.admin() as conn:
        top = conn.execute(
            "SELECT MAX(EC_No), MAX(cbModification) FROM F_ECRITUREC"
        ).fetchone()
        last_no = int(top[0])
        newest = (
            top[1]
            if isinstance(top[1], dt.datetime)
            else dt.datetime.fromisoformat(str(top[1]))
        )
        open_line = conn.execute(
            "SELECT e.EC_No FROM F_ECRITUREC e JOIN F_COMPTET t ON t.CT_Num = e.CT_Num "
            "WHERE t.CT_Type = 0 AND e.EC_Sens = 0 AND e.EC_Lettre = 0 ORDER BY e.EC_No"
        ).fetchval()
        copy_entry(
            conn,
            open_line,
            last_no + 1,
            cbModification=stamp(sage, newest + dt.timedelta(hours=1)),
            EC_Montant=Decimal("123.45"),
        )
        copy_entry(
            conn,
            open_line,
            last_no + 2,
            cbModification=stamp(sage, newest),
            EC_Montant=Decimal("10.00"),
        )
        conn.execute(
            "UPDATE F_ECRITUREC SET EC_Lettre = 0, EC_Lettrage = '', cbModification = ? WHERE EC_No = ("
            "SELECT MIN(EC_No) FROM F_ECRITUREC WHERE EC_Lettre = 1)",
            stamp(sage, newest + dt.timedelta(hours=2)),
        )
    incremental = sync_company(config, "acme", store, clock)
    assert (incremental.inserted, incremental.updated) == (2, 1)
    expected = source_sums(sage)
    assert {
        c: v for c, v in store_balances(store, clock).items() if c in expected
    } == expected
    with sage.admin() as conn:
        conn.execute("DELETE FROM F_ECRITUREC WHERE EC_No = ?", last_no + 2)
    clock.advance(dt.timedelta(hours=25))
    full = sync_company(config, "acme", store, clock)
    assert full.full_read
    assert full.closed == 1
    expected = source_sums(sage)
    assert {
        c: v for c, v in store_balances(store, clock).items() if c in expected
    } == expected


def test_contacts_arrive_with_their_customer(
    sage: SageDb, tmp_path: Path, store: Engine, clock: FixedClock
) -> None:
    """Every F_CONTACTT person of a customer is stored once, under that customer."""
    sync_company(config_for(tmp_path, sage), "acme", store, clock)
    with sage.admin() as conn:
        expected = {
            (str(num).strip(), f"{first} {last}".strip())
            for num, first, last in conn.execute(
                "SELECT c.CT_Num, c.CT_Prenom, c.CT_Nom FROM F_CONTACTT c "
                "JOIN F_COMPTET t ON t.CT_Num = c.CT_Num WHERE t.CT_Type = 0"
            ).fetchall()
        }
    with store.connect() as conn:
        found = set(
            conn.execute(
                select(customers.c.code, contacts.c.name).join(
                    customers, customers.c.id == contacts.c.customer_id
                )
            ).all()
        )
    assert found == expected
    assert len(expected) > 50


def test_rows_without_a_modification_stamp_are_kept(
    sage: SageDb, tmp_path: Path, store: Engine, clock: FixedClock
) -> None:
    """Entries and customers whose cbModification is NULL are read, and a full read closes nothing."""
    config = config_for(tmp_path, sage)
    with sage.admin() as conn:
        conn.execute(
            "UPDATE F_ECRITUREC SET cbModification = NULL WHERE EC_No = (SELECT MIN(EC_No) FROM F_ECRITUREC)"
        )
        conn.execute(
            "UPDATE F_COMPTET SET cbModification = NULL, CT_Langue = NULL WHERE CT_Num = (SELECT MIN(CT_Num) FROM F_COMPTET WHERE CT_Type = 0)"
        )
    first = sync_company(config, "acme", store, clock)
    assert first.rejected == 0
    full = sync_company(config, "acme", store, clock, full=True)
    assert (full.closed, full.rejected) == (0, 0)
    expected = source_sums(sage)
    assert {
        c: v for c, v in store_balances(store, clock).items() if c in expected
    } == expected


def test_switching_a_company_from_files_to_odbc_reads_everything(
    sage: SageDb, tmp_path: Path, store: Engine, clock: FixedClock
) -> None:
    """A checkpoint left by a file mapping starts the ODBC source with a full read."""
    fec = tmp_path / "fec"
    fec.mkdir()
    (fec / "1FEC20261231.txt").write_text(fec_lines(), encoding="utf-8")
    (tmp_path / "files").mkdir()
    path = write_config(
        tmp_path / "files", f"sqlite:///{tmp_path / 'store.db'}", str(fec)
    )
    sync_company(load(path), "acme", store, clock)
    report = sync_company(config_for(tmp_path, sage), "acme", store, clock)
    assert (report.status, report.full_read) == ("completed", True)


def test_staged_rows_store_what_records_store(
    sage: SageDb, tmp_path: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sync's staged rows (EntriesReading.staged_rows) leave the store exactly as
    the records do: every row of every table the sync writes, and the checkpoint."""
    config = config_for(tmp_path, sage)
    staged = open_store(f"sqlite:///{tmp_path / 'staged.db'}")
    by_record = open_store(f"sqlite:///{tmp_path / 'records.db'}")
    try:
        sync_company(config, "acme", staged, clock)
        monkeypatch.delattr(EntriesReading, "staged_rows")
        sync_company(config, "acme", by_record, clock)
        tables = (customers, contacts, invoices, payments, allocations, checkpoints)
        found = [dump(staged, t) for t in tables]
        assert found == [dump(by_record, t) for t in tables]
        assert len(found[2]) > 100
        assert len(found[3]) > 100
        assert len(found[4]) > 100
    finally:
        staged.dispose()
        by_record.dispose()


def test_staged_rows_are_the_records(
    sage: SageDb, tmp_path: Path, clock: FixedClock
) -> None:
    """Read by read, staged rows stand for the records, rejects included, and the
    watermarks the next read starts from are the same."""
    mapper = build_mapper(config_for(tmp_path, sage), "acme", clock)
    by_record = mapper.read(None, full=True)
    staged = mapper.read(None, full=True)
    assert isinstance(staged, EntriesReading)
    assert by_record is not None
    records = list(by_record.records())
    rows = [record(r) if isinstance(r, tuple) else r for r in staged.staged_rows()]
    assert rows == records
    assert sum(isinstance(r, Invoice | Payment) for r in records) > 100
    assert staged.checkpoint() == by_record.checkpoint()
    assert "entries" in json.loads(staged.checkpoint())


def dump(engine: Engine, table: Any) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(table).order_by(*table.c))]
