"""Temporary staging tables, filled through the driver's executemany.

A sync streams records into these tables in batches (no per-row ORM objects),
then merges them into the canonical tables with a few set-based statements.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from operator import attrgetter
from typing import Any

from sqlalchemy import Connection

from sageconnect.model.money import to_cents
from sageconnect.model.records import (
    Contact,
    Customer,
    Invoice,
    Keyed,
    Payment,
    Settlement,
)
from sageconnect.store.bulk import analyze, insert_rows, temp_table

CUSTOMER_COLUMNS = (
    "code",
    "name",
    "account",
    "email",
    "phone",
    "siren",
    "language",
    "payment_terms",
    "credit_limit",
    "insured_limit",
    "dunning_excluded",
    "category",
    "consumer",
)
INVOICE_COLUMNS = (
    "key",
    "customer",
    "number",
    "kind",
    "issued",
    "due",
    "due_source",
    "amount",
    "currency",
    "currency_amount",
    "journal",
    "label",
    "lettering",
    "lettered_on",
)
CONTACT_COLUMNS = ("key", "customer", "name", "role", "email", "phone")
SETTLEMENT_COLUMNS = ("key", "invoice", "payment", "amount", "settled_on")
PAYMENT_COLUMNS = (
    "key",
    "customer",
    "kind",
    "received",
    "amount",
    "currency",
    "currency_amount",
    "journal",
    "reference",
    "label",
    "lettering",
    "lettered_on",
)

_ENUMS = {"kind", "due_source"}
_MONEY = {"amount", "currency_amount", "credit_limit", "insured_limit"}
_TYPES = {
    "issued": "DATE",
    "due": "DATE",
    "received": "DATE",
    "lettered_on": "DATE",
    "settled_on": "DATE",
    "amount": "BIGINT",
    "currency_amount": "BIGINT",
    "credit_limit": "BIGINT",
    "insured_limit": "BIGINT",
    "dunning_excluded": "BOOLEAN",
    "consumer": "BOOLEAN",
}


@dataclass(frozen=True, slots=True)
class Stage:
    """One staging table: its name, its columns, and the key column."""

    table: str
    columns: tuple[str, ...]
    key: str

    def definition(self) -> str:
        """The table's columns as SQL: each typed, then its read order."""
        cols = ", ".join(f"{c} {_TYPES.get(c, 'TEXT')}" for c in self.columns)
        return f"{cols}, seq INTEGER"

    def create(self, conn: Connection) -> None:
        temp_table(conn, self.table, self.definition())

    def insert(self, conn: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
        """Insert rows (each ends with its read order).

        Through the driver's bulk path: COPY on PostgreSQL, executemany on the
        raw connection elsewhere; no statement compiled per batch.
        """
        if rows:
            insert_rows(conn, self.table, (*self.columns, "seq"), rows)

    def index(self, conn: Connection) -> None:
        """Index the key once the rows are in (faster than indexing each insert);
        statistics of the columns the merge joins on."""
        conn.exec_driver_sql(
            f"CREATE INDEX ix_{self.table} ON {self.table} ({self.key})"
        )
        joined = [c for c in (self.key, "customer") if c in self.columns]
        analyze(conn, self.table, columns=joined)

    def drop_duplicates(self, conn: Connection) -> list[tuple[str, int]]:
        """Keep the first row read for each key; return (key, copies) of the others."""
        dups = [
            (str(key), int(n))
            for key, n in conn.exec_driver_sql(
                f"SELECT {self.key}, COUNT(*) FROM {self.table}"
                f" GROUP BY {self.key} HAVING COUNT(*) > 1 ORDER BY {self.key}"
            )
        ]
        if dups:
            conn.exec_driver_sql(
                f"DELETE FROM {self.table} WHERE seq NOT IN"
                f" (SELECT MIN(seq) FROM {self.table} GROUP BY {self.key})"
            )
        return dups

    def drop(self, conn: Connection) -> None:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {self.table}")


CUSTOMERS = Stage("stage_customers", CUSTOMER_COLUMNS, "code")
INVOICES = Stage("stage_invoices", INVOICE_COLUMNS, "key")
PAYMENTS = Stage("stage_payments", PAYMENT_COLUMNS, "key")
CONTACTS = Stage("stage_contacts", CONTACT_COLUMNS, "key")
SETTLEMENTS = Stage("stage_settlements", SETTLEMENT_COLUMNS, "key")


@cache
def rower(columns: tuple[str, ...]) -> Callable[[Keyed], tuple[Any, ...]]:
    """The staging row maker of one record type: values in column order, money
    in cents, enums by value; attributes fetched at C speed. Built once per
    column list."""
    fetch = attrgetter(*columns)
    money = [i for i, name in enumerate(columns) if name in _MONEY]
    enums = [i for i, name in enumerate(columns) if name in _ENUMS]

    def make(record: Keyed) -> tuple[Any, ...]:
        values = list(fetch(record))
        for i in money:
            if values[i] is not None:
                values[i] = to_cents(values[i])
        for i in enums:
            value = values[i]
            if isinstance(value, enum.Enum):
                values[i] = value.value
        return tuple(values)

    return make


ROUTES: dict[type, tuple[Stage, tuple[str, ...], str]] = {
    # in merge order: customers first, since the others name them
    Customer: (CUSTOMERS, CUSTOMER_COLUMNS, "customers"),
    Contact: (CONTACTS, CONTACT_COLUMNS, "contacts"),
    Invoice: (INVOICES, INVOICE_COLUMNS, "invoices"),
    Payment: (PAYMENTS, PAYMENT_COLUMNS, "payments"),
    Settlement: (SETTLEMENTS, SETTLEMENT_COLUMNS, "allocations"),
}
