"""Set-based merge of staging tables into the canonical tables.

Each statement runs for one company and one sync run: update the rows with a
value that changed (or that come back after being closed), close the rows the
source no longer has, insert the rows whose key is new. Counts come from
rowcount. Values are compared column by column in SQL, NULL-safe: no digest of
each row is computed in Python on the way in. The inserts come last: a row
inserted by this run would be neither updated (same values, open) nor closed
(staged), so the updates need not pass over them (on a first sync, all of the
table).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, text

from sageconnect.store.bulk import FRESH, analyze, filling, referenced, temp_table_as
from sageconnect.store.staging import Stage

HITS = "merge_hits"  # the staged rows that change a row of the target, with its id


@dataclass(slots=True)
class MergeCounts:
    inserted: int = 0
    updated: int = 0
    closed: int = 0


def merge(
    conn: Connection,
    stage: Stage,
    target: str,
    company: int,
    run: int,
    *,
    close: bool,
    before_update: Callable[[Connection, str], None] | None = None,
) -> MergeCounts:
    """Merge one staging table into ``target``; rows name their customer by code.

    ``before_update`` is given the table of the rows about to be updated (HITS:
    ``row_id``, ``customer_ref`` and the staged values; for lettered items,
    ``was_customer_id`` and ``was_lettering`` too, what the update overwrites).
    """
    keyed = stage.key
    has_customer = "customer" in stage.columns
    cols = [c for c in stage.columns if c != "customer"]
    src_cols = ", ".join(f"s.{c}" for c in cols)
    join = (
        "JOIN customers c ON c.company_id = :company AND c.code = s.customer"
        if has_customer
        else ""
    )
    target_cols = ", ".join(cols)
    cust_col = "customer_id, " if has_customer else ""
    cust_val = "c.id, " if has_customer else ""
    params = {"company": company, "run": run}
    values = [c for c in cols if c != keyed]
    differs = "IS DISTINCT FROM" if conn.dialect.name == "postgresql" else "IS NOT"
    changed = " OR ".join(
        [f"t.{c} {differs} s.{c}" for c in values]
        + ([f"t.customer_id {differs} c.id"] if has_customer else [])
    )
    # The rows to update are found first, staged row by staged row through the
    # target's unique key, then updated by id. CROSS JOIN fixes SQLite's order:
    # with no statistics, it otherwise read the company's whole table and looked
    # each row up among the staged (0.40 s against 0.005 s for 4 000 rows staged
    # among 440 000 invoices); PostgreSQL plans it as any join. In one
    # UPDATE ... FROM, SQLite read the whole table too (0.06 s a table for 4 000
    # staged rows that changed nothing).
    carried = "c.id AS customer_ref, " if has_customer else ""
    if has_customer and "lettering" in values:  # what the update overwrites
        carried += "t.customer_id AS was_customer_id, t.lettering AS was_lettering, "
    temp_table_as(
        conn,
        HITS,
        f"SELECT t.id AS row_id, {carried}"
        + ", ".join(f"s.{c}" for c in values)
        + f" FROM {stage.table} s CROSS JOIN {target} t {join}"
        f" WHERE t.company_id = :company AND t.{keyed} = s.{keyed}"
        f" AND ({changed} OR t.closed_run_id IS NOT NULL)",
        params,
    )
    if before_update is not None:
        before_update(conn, HITS)
    sets = ", ".join(f"{c} = u.{c}" for c in values)
    cust_set = "customer_id = u.customer_ref, " if has_customer else ""
    updated = conn.execute(
        text(
            f"UPDATE {target} SET {cust_set}{sets},"
            f" changed_run_id = :run, closed_run_id = NULL"
            f" FROM {HITS} u WHERE {target}.id = u.row_id"
        ),
        params,
    ).rowcount
    conn.exec_driver_sql(f"DROP TABLE {HITS}")
    closed = 0
    if close:
        closed = conn.execute(
            text(
                f"UPDATE {target} SET closed_run_id = :run, changed_run_id = :run"
                f" WHERE company_id = :company AND closed_run_id IS NULL"
                f" AND NOT EXISTS (SELECT 1 FROM {stage.table} s"
                f" WHERE s.{keyed} = {target}.{keyed})"
            ),
            params,
        ).rowcount
    # company and customer ids come from the join
    with referenced(conn), filling(conn, target, stage.table) as rebuilt:
        inserted = conn.execute(
            text(
                f"INSERT INTO {target} (company_id, {cust_col}{target_cols},"
                f" first_run_id, changed_run_id)"
                f" SELECT :company, {cust_val}{src_cols}, :run, :run"
                f" FROM {stage.table} s {join}"
                f" WHERE NOT EXISTS (SELECT 1 FROM {target} t"
                f" WHERE t.company_id = :company AND t.{keyed} = s.{keyed})"
            ),
            params,
        ).rowcount
    if inserted > FRESH and not rebuilt:  # (filling analysed a table it rebuilt)
        analyze(conn, target)  # plans next see its new size
    return MergeCounts(inserted, updated, closed)


def orphans(conn: Connection, stage: Stage, company: int) -> list[tuple[str, str]]:
    """Staged (key, customer) rows whose customer the store does not know."""
    rows = conn.execute(
        text(
            f"SELECT s.{stage.key}, s.customer FROM {stage.table} s"
            " WHERE NOT EXISTS (SELECT 1 FROM customers c"
            " WHERE c.company_id = :company AND c.code = s.customer)"
            f" ORDER BY s.{stage.key}"
        ),
        {"company": company},
    )
    return [(str(key), str(customer)) for key, customer in rows]
