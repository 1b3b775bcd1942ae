"""What a send reads before each message stays a customer's worth of rows.

Before each message, a send plans its customer again from the store
(``send._recheck``): that customer's open items, net of the allocations that
settled them. Where credit notes are few or none, an index of every
allocation's credit note held mostly NULLs, its statistics said it found most
rows, and SQLite read the company's whole allocations table for each customer
(31 ms a customer at 150 000 allocations: most of an hour for a first cycle of
100 000 messages). And a store as the product leaves it has no statistics at
all: then SQLite went through the (company_id, key) index, every allocation of
the company again. The query plan SQLite states is what an operator would look
at; these tests look at it too.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, text

from sageconnect.clock import FixedClock
from sageconnect.config import load
from sageconnect.jobs import sync_company
from sageconnect.store.engine import open_store
from sageconnect.store.matching import rematch
from sageconnect.store.open_items import chase_rows
from sageconnect.store.queries import company_ids
from support import generated_fec, write_config

CUSTOMERS = 200
AS_OF = dt.date(2026, 11, 24)


def _ledger(folder: Path, *, credit_notes: bool) -> None:
    """Each customer: three invoices, two paid and lettered; a credit note too
    for every tenth customer if asked."""
    customers = [
        "code;name;email;phone;siren;language;credit_limit;insured_limit;no_dunning"
    ]
    entries = ["id;customer;type;number;date;due;label;amount;match"]
    for n in range(1, CUSTOMERS + 1):
        code = f"C{n:04d}"
        noted = credit_notes and n % 10 == 0
        customers.append(f"{code};Client {n};;;;fr;;;0")
        entries += [
            f"I{n}-{k};{code};invoice;F{n}-{k};0{k}/09/2026;0{k}/10/2026;Facture;"
            f"{100 * k},00;{f'L{k}' if k < 3 or noted else ''}"
            for k in (1, 2, 3)
        ]
        entries += [
            f"P{n}-{k};{code};payment;V{n}-{k};1{k}/10/2026;;Virement;{100 * k},00;L{k}"
            for k in (1, 2)
        ]
        if noted:
            entries.append(f"A{n};{code};credit_note;AV{n};15/10/2026;;Avoir;50,00;L3")
    (folder / "customers.csv").write_text("\n".join(customers) + "\n", encoding="utf-8")
    (folder / "entries.csv").write_text("\n".join(entries) + "\n", encoding="utf-8")


def _synced(
    tmp_path: Path, *, credit_notes: bool, analyzed: bool
) -> tuple[Engine, int]:
    src = tmp_path / "src"
    src.mkdir()
    _ledger(src, credit_notes=credit_notes)
    url = f"sqlite:///{tmp_path / 'store.db'}"
    (tmp_path / "config.toml").write_text(
        f'[store]\nurl = "{url}"\n'
        '[companies.acme]\nname = "ACME"\n'
        '[companies.acme.source]\nmapping = "csv"\npath = "src"\n',
        encoding="utf-8",
    )
    config = load(tmp_path / "config.toml")
    engine = open_store(url)
    clock = FixedClock(dt.datetime(2026, 11, 24, 6, tzinfo=dt.UTC))
    report = sync_company(config, "acme", engine, clock)
    assert report.rejected == 0
    with engine.begin() as conn:
        if analyzed:  # the product never does; an administrator may have
            conn.exec_driver_sql("ANALYZE")
        assert analyzed is bool(
            conn.exec_driver_sql(
                "SELECT COUNT(*) FROM sqlite_master WHERE name = 'sqlite_stat1'"
            ).scalar_one()
        )
        return engine, company_ids(conn)["acme"]


def _plan_of_chase_rows(engine: Engine, company: int, customer: str) -> list[str]:
    """SQLite's plan of the query chase_rows runs for one customer."""
    seen: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if "settled" in statement:
            seen.append((statement, params))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        with engine.connect() as conn:
            rows = list(chase_rows(conn, company, AS_OF, customer=customer))
            assert {code for _, _, _, code, *_ in rows} == {customer}
            ((statement, params),) = seen
            raw = conn.connection.driver_connection
            assert raw is not None
            return [
                r[3] for r in raw.execute(f"EXPLAIN QUERY PLAN {statement}", params)
            ]
    finally:
        event.remove(engine, "before_cursor_execute", capture)


@pytest.mark.parametrize("analyzed", [False, True], ids=["as-synced", "analyzed"])
@pytest.mark.parametrize("credit_notes", [False, True], ids=["no-credit-note", "some"])
def test_one_customers_open_items_do_not_read_every_allocation(
    tmp_path: Path, credit_notes: bool, analyzed: bool
) -> None:
    """With credit notes or without, with the statistics of ANALYZE or (as the
    product leaves a store) without: allocations are looked up by the invoice
    and the credit-note indexes, never through the whole company's rows."""
    engine, company = _synced(tmp_path, credit_notes=credit_notes, analyzed=analyzed)
    with engine.connect() as conn:
        allocated = conn.execute(text("SELECT COUNT(*) FROM allocations")).scalar_one()
        notes = conn.execute(
            text("SELECT COUNT(*) FROM allocations WHERE credit_note_id IS NOT NULL")
        ).scalar_one()
    assert allocated >= 2 * CUSTOMERS
    assert (notes > 0) is credit_notes
    steps = _plan_of_chase_rows(engine, company, "C0010")
    on_allocations = [s for s in steps if " allocations " in s]
    assert [s.split(" (")[0] for s in on_allocations] == [
        "SEARCH allocations USING INDEX ix_allocations_invoice_id",
        "SEARCH allocations USING INDEX ix_allocations_credit_note_id",
    ], steps
    # nor are the company's invoices gone through to find the customer's
    tables = {"invoices", "i", "allocations", "bank_matches", "m", "customers", "c"}
    scans = [s for s in steps if s.startswith("SCAN ") and s.split()[1] in tables]
    assert not [s for s in steps if "(company_id=?)" in s] + scans, steps
    engine.dispose()


@pytest.mark.parametrize("analyzed", [False, True], ids=["as-synced", "analyzed"])
def test_matching_one_customer_again_reads_that_customers_items(
    tmp_path: Path, analyzed: bool
) -> None:
    """A dispute matches its customer again (dunning.pauses): the open items
    are read from the customer, through the customer indexes; neither the
    company's invoices nor its payments are gone through, with or without
    statistics (what it matches: tests/store/test_rematch.py)."""
    engine, company = _synced(tmp_path, credit_notes=True, analyzed=analyzed)
    plans: list[list[str]] = []

    def capture(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if "match_scope s" in statement:  # planned while the scope table exists
            found = cursor.connection.execute(f"EXPLAIN QUERY PLAN {statement}", params)
            plans.append([r[3] for r in found])

    with engine.begin() as conn:
        customer = conn.execute(
            text("SELECT id FROM customers WHERE code = 'C0010'")
        ).scalar_one()
        event.listen(engine, "before_cursor_execute", capture)
        try:
            rematch(conn, company, [customer])
        finally:
            event.remove(engine, "before_cursor_execute", capture)
        assert len(plans) == 3  # open debits, credit notes, payments
        for steps in plans:
            scans = [
                s for s in steps if s.split()[:2] in (["SCAN", "i"], ["SCAN", "p"])
            ]
            scans += [
                s for s in steps if s.startswith(("SCAN invoices", "SCAN payments"))
            ]
            assert not scans, steps
    engine.dispose()


ITEMS = re.compile(
    r"\b(invoices|payments)\b(?:\s+(?:AS\s+)?(?!WHERE|ON|JOIN|SET|USING)(\w+))?",
    re.IGNORECASE,
)


# "SCAN i", "SEARCH t USING ...", and before SQLite 3.36 "SCAN TABLE invoices AS i"
STEP = re.compile(r"(SCAN|SEARCH|BLOOM FILTER ON) (?:TABLE )?(?:\w+ AS )?(\w+)(.*)")


def _items_read_whole(statement: str, steps: list[str]) -> list[str]:
    """The steps of a plan that go through every invoice or payment (of the
    company): a scan of the table, or a search of its unique (company_id, key)
    index by the company alone."""
    if "LIMIT" in statement:  # stops after a few rows, however many there are
        return []
    names = {"invoices", "payments"}
    names |= {m.group(2) for m in ITEMS.finditer(statement) if m.group(2)}
    whole = []
    for step in steps:
        found = STEP.match(step)
        if found is None:
            continue
        kind, name, rest = found.groups()
        # a scan, or an automatic index or Bloom filter (built by reading it all)
        every = kind != "SEARCH" or "AUTOMATIC" in rest
        by_company = re.search(
            r"sqlite_autoindex_(invoices|payments)_1 \(company_id=\?\)", rest
        )
        if (every and name in names) or by_company:
            whole.append(step)
    return whole


def test_a_resync_of_a_few_changed_entries_reads_no_table_of_items_whole(
    tmp_path: Path,
) -> None:
    """A nightly export with a few labels corrected: the re-sync reads the
    entries that changed and looks each up in the store, with the statistics
    the product leaves (none). No statement of it goes through the company's
    invoices or payments: its cost follows what changed, not the ledger's size
    (at 877 000 items, 2.0 s of a re-sync that changed nothing, before)."""
    fec = generated_fec(tmp_path / "src")
    src = fec.parent
    url = f"sqlite:///{tmp_path / 'store.db'}"
    config = load(write_config(tmp_path, url, str(src)))
    engine = open_store(url)
    clock = FixedClock(dt.datetime(2026, 11, 24, 6, tzinfo=dt.UTC))
    assert sync_company(config, "acme", engine, clock).full_read
    lines = fec.read_text("utf-8").splitlines()
    for n in range(1, len(lines), 97):
        fields = lines[n].split("\t")
        fields[10] += " (corrigé)"  # EcritureLib
        lines[n] = "\t".join(fields)
    fec.write_text("\n".join(lines) + "\n", encoding="utf-8")

    planned: list[tuple[str, list[str]]] = []

    def capture(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if isinstance(params, list) or not re.match(
            r"\s*(SELECT|WITH|INSERT|UPDATE|DELETE|CREATE TEMP)",
            statement,
            re.IGNORECASE,
        ):
            return
        found = cursor.connection.execute(f"EXPLAIN QUERY PLAN {statement}", params)
        planned.append((statement, [r[3] for r in found]))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        report = sync_company(config, "acme", engine, clock)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
        engine.dispose()
    assert not report.full_read
    assert report.updated > 0
    assert len(planned) > 20  # the merges, the lettering, the matching
    whole = {s: w for s, steps in planned if (w := _items_read_whole(s, steps))}
    assert not whole, "\n\n".join(f"{s}\n  {w}" for s, w in whole.items())
