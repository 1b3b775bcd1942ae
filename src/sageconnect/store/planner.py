"""What PostgreSQL's planner is told before a sync: settings for its transaction,
and statistics for the store's tables that have none.

Nothing here changes a result, only how the statements that compute it are run.
Settings are ``SET LOCAL`` (they end with the sync's transaction) and only ever
move towards what the sync needs: a server set higher (work_mem) or lower
(random_page_cost) than that keeps its own.
"""

from __future__ import annotations

import time

from sqlalchemy import Connection, Engine, text

from sageconnect import logs

WORK_MEM_KB = 64 * 1024
RANDOM_PAGE_COST = 1.1

# The tables a sync reads by join: without statistics, their plans are guesses.
STORE_TABLES = ("customers", "invoices", "payments", "allocations", "source_entries")


def analyze_bare(engine: Engine) -> list[str]:
    """ANALYZE the store tables that hold rows but no column statistics, in a
    transaction of their own before the sync's (their locks end with it, and
    the statistics stay whatever the sync does); logged as
    store_tables_analyzed. Returns their names.

    A store restored from a dump (pg_restore copies rows, never statistics) or
    moved by COPY has none until autovacuum comes by: meanwhile every plan
    guesses: a 1 % re-sync of a million-line ledger just restored took 10.8 s,
    and 3.3 s once analysed (0.4 s of it the ANALYZE). Tables without a row
    have nothing to tell, and are left alone.
    """
    if engine.dialect.name != "postgresql":
        return []
    with engine.begin() as conn:
        bare = [
            str(name)
            for (name,) in conn.execute(
                text(  # each table found as the sync's unqualified names find it
                    "SELECT c.relname FROM unnest(CAST(:tables AS text[])) AS t(name)"
                    " JOIN pg_class c ON c.oid = to_regclass(quote_ident(t.name))"
                    " JOIN pg_namespace n ON n.oid = c.relnamespace"
                    " WHERE c.relkind = 'r' AND pg_relation_size(c.oid) > 0"
                    " AND pg_has_role(c.relowner, 'USAGE')"  # ANALYZE would skip it
                    " AND NOT EXISTS (SELECT 1 FROM pg_stats s"
                    " WHERE s.schemaname = n.nspname AND s.tablename = c.relname)"
                    " ORDER BY c.relname"
                ),
                {"tables": list(STORE_TABLES)},
            )
        ]
        started = time.perf_counter()
        for table in bare:
            conn.exec_driver_sql(f"ANALYZE {table}")
    if bare:
        logs.get().info(
            "store_tables_analyzed",
            tables=",".join(bare),
            duration_s=round(time.perf_counter() - started, 3),
        )
    return bare


def configure(conn: Connection) -> None:
    """The planner settings of the sync's transaction (``SET LOCAL``): sorts and
    hashes over a whole ledger's rows in memory, and index probes priced as what
    they are on a store whose tables are cached.

    PostgreSQL's default work_mem (4 MB) sends the sort of the customers a first
    sync touched (one row per item) to disk. Its default random_page_cost (4.0,
    a spinning disk's) prices an index probe so high that a re-sync's few
    thousand staged keys were joined to the store by reading whole tables: the
    merge's look-up of 6 500 staged invoices among 214 000 took 78 ms by a hash
    join over all of them, 28 ms by their unique index (1.1, the usual figure
    for SSDs and cached data).
    """
    if conn.dialect.name != "postgresql":
        return
    work_mem, page_cost = conn.execute(
        text(
            "SELECT (SELECT setting::bigint FROM pg_settings WHERE name = 'work_mem'),"
            " (SELECT setting::float8 FROM pg_settings"
            " WHERE name = 'random_page_cost')"
        )
    ).one()
    if work_mem is not None and int(work_mem) < WORK_MEM_KB:
        conn.exec_driver_sql(f"SET LOCAL work_mem = '{WORK_MEM_KB}kB'")
    if page_cost is not None and float(page_cost) > RANDOM_PAGE_COST:
        conn.exec_driver_sql(f"SET LOCAL random_page_cost = {RANDOM_PAGE_COST}")
