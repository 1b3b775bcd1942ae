"""A re-sync of a changed FEC reads only the entries that changed, to the same result.

The generated ledger (fixtures/fec/generate.py) is synced, then edited the way
an accounting package edits its export between two nights: labels corrected,
lines un-lettered and re-lettered, an entry deleted, entries added, a customer
renamed, lines broken (an amount, a line's width inside its entry) and a broken
line mended. The store that re-synced only
the changed entries must then hold exactly what a fresh full read of the
edited file gives.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from sageconnect.clock import FixedClock
from sageconnect.config import load
from sageconnect.jobs import sync_company
from sageconnect.store.engine import open_store
from sageconnect.store.tables import (
    allocations,
    customers,
    invoices,
    payments,
    rejects,
)
from support import generated_fec, write_config

LABEL, LETTERING, LETTERED_ON, AUX, AUX_NAME, DEBIT = 10, 13, 14, 6, 7, 11

Edit = Callable[[list[list[str]]], list[list[str]]]


def _rows(fec: Path) -> list[list[str]]:
    return [line.split("\t") for line in fec.read_text("utf-8").splitlines()]


def _write(fec: Path, rows: list[list[str]]) -> None:
    fec.write_text("".join("\t".join(r) + "\n" for r in rows), encoding="utf-8")


def _nightly_edits(rows: list[list[str]]) -> list[list[str]]:
    """What changes between two exports: a few lines here and there."""
    header, body = rows[0], [list(r) for r in rows[1:]]
    for n, row in enumerate(body):
        if n % 97 == 0:
            row[LABEL] += " (corrigé)"
        if n % 89 == 0 and row[LETTERING]:
            row[LETTERING] = row[LETTERED_ON] = ""
        if n % 83 == 0 and row[AUX_NAME] and not row[LETTERING]:
            row[LETTERING], row[LETTERED_ON] = "ZZ", row[3]
    receivable = [n for n, r in enumerate(body) if r[AUX]]
    renamed = body[receivable[10]][AUX]
    for row in body:
        if row[AUX] == renamed:
            row[AUX_NAME] = "Nouveau nom SARL"
    body[receivable[300]][DEBIT] = "12,3,4"  # a line broken
    inside = receivable[320] + 1  # a counterpart line, in the entry of a receivable
    assert body[inside][2] == body[receivable[320]][2]
    body[inside] = [*body[inside], "en trop"]  # a line too wide, inside its entry
    gone = body[200][2]
    body = [r for r in body if r[2] != gone]  # an entry deleted
    added = [list(r) for r in body[400:410]]
    for row in added:
        row[2] = "NEW" + row[2]  # entries added at the end
    return [header, *body, *added]


def _snapshot(engine: Engine) -> dict[str, Any]:
    """What a user reads from the store: open items, customers, allocations, rejects."""
    with engine.connect() as conn:
        items = {
            name: sorted(
                tuple(str(v) for v in row)
                for row in conn.execute(
                    select(*(c for c in table.c if not c.name.endswith("id"))).where(
                        table.c.closed_run_id.is_(None)
                    )
                )
            )
            for name, table in (("invoices", invoices), ("payments", payments))
        }
        items["customers"] = sorted(
            conn.execute(
                select(customers.c.code, customers.c.name).where(
                    customers.c.closed_run_id.is_(None)
                )
            ).all()
        )
        items["allocations"] = sorted(
            (str(a), str(o), str(p), str(c), str(i))
            for a, o, p, c, i in conn.execute(
                select(
                    allocations.c.amount,
                    allocations.c.origin,
                    payments.c.key,
                    allocations.c.allocated_on,
                    invoices.c.key,
                )
                .join(invoices, invoices.c.id == allocations.c.invoice_id)
                .outerjoin(payments, payments.c.id == allocations.c.payment_id)
            )
        )
        items["rejects"] = sorted(
            conn.execute(
                select(rejects.c.line, rejects.c.field, rejects.c.reason).where(
                    rejects.c.resolved_run_id.is_(None)
                )
            ).all()
        )
    return items


def _fresh_read(tmp_path: Path, fec: Path, clock: FixedClock) -> dict[str, Any]:
    """The snapshot of a new store after a full read of ``fec``."""
    fresh_url = f"sqlite:///{tmp_path / 'fresh.db'}"
    fresh = open_store(fresh_url)
    (tmp_path / "fresh").mkdir()
    fresh_config = load(write_config(tmp_path / "fresh", fresh_url, str(fec.parent)))
    sync_company(fresh_config, "acme", fresh, clock)
    try:
        return _snapshot(fresh)
    finally:
        fresh.dispose()


@pytest.mark.parametrize("edit", [_nightly_edits], ids=["nightly edits"])
def test_a_resync_of_changed_entries_gives_what_a_full_read_gives(
    tmp_path: Path, store_url: str, engine: Engine, clock: FixedClock, edit: Edit
) -> None:
    """After edits, syncing only the changed entries leaves the store as a fresh full read does."""
    fec = generated_fec(tmp_path / "fec")
    config = load(write_config(tmp_path, store_url, str(fec.parent)))
    first = sync_company(config, "acme", engine, clock)
    _write(fec, edit(_rows(fec)))
    again = sync_company(config, "acme", engine, clock)
    assert again.full_read is False
    assert 0 < again.read < first.read / 5  # only the changed entries were parsed
    assert again.closed > 0  # the deleted entry's items are gone
    assert again.rejected == 2  # the broken lines, reported again on each run

    assert _snapshot(engine) == _fresh_read(tmp_path, fec, clock)


def test_a_mended_line_and_an_unchanged_file_after_a_resync(
    tmp_path: Path, store_url: str, engine: Engine, clock: FixedClock
) -> None:
    """A broken line mended is read again and its reject resolved; nothing changed reads nothing."""
    fec = generated_fec(tmp_path / "fec")
    config = load(write_config(tmp_path, store_url, str(fec.parent)))
    original = _rows(fec)
    broken = [list(r) for r in original]
    broken[[n for n, r in enumerate(broken) if r[AUX]][50]][DEBIT] = "not a number"
    _write(fec, broken)
    sync_company(config, "acme", engine, clock)
    _write(fec, original)
    mended = sync_company(config, "acme", engine, clock)
    assert (mended.full_read, mended.rejected) == (False, 0)
    assert mended.read < 10
    still = sync_company(config, "acme", engine, clock)
    assert still.source_unchanged
    forced = sync_company(config, "acme", engine, clock, full=True)
    assert forced.full_read
    assert (forced.inserted, forced.updated, forced.closed) == (0, 0, 0)


def test_a_header_that_changes_what_the_same_lines_mean_reads_them_again(
    tmp_path: Path, store_url: str, engine: Engine, clock: FixedClock
) -> None:
    """Debit and Credit swapped in the header, every line's bytes as they were:
    the lines now mean the opposite amounts, so no entry counts as known; the
    store ends as a fresh full read of the new file leaves it."""
    fec = generated_fec(tmp_path / "fec")
    config = load(write_config(tmp_path, store_url, str(fec.parent)))
    first = sync_company(config, "acme", engine, clock)
    rows = _rows(fec)
    rows[0][DEBIT], rows[0][DEBIT + 1] = rows[0][DEBIT + 1], rows[0][DEBIT]
    _write(fec, rows)
    again = sync_company(config, "acme", engine, clock)
    assert again.read == first.read  # every entry read again

    assert _snapshot(engine) == _fresh_read(tmp_path, fec, clock)
