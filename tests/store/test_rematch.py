"""Matching again gives the same matches whatever the customers asked at once.

The sync matches every touched customer in one pass, a dispute one customer:
both go through the same queries, read a customer at a time from three
streams (open invoices, credit notes, payments) merged by customer. A customer
missing from one stream, or streams out of step, would give other matches to
the pass over many than to the customer alone.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine, select

from sageconnect.clock import FixedClock
from sageconnect.config import load
from sageconnect.jobs import sync_company
from sageconnect.store.matching import rematch
from sageconnect.store.queries import company_ids
from sageconnect.store.tables import allocations, customers
from support import ROOT, write_config


def _matches(conn: object) -> set[tuple[object, ...]]:
    return {
        tuple(r)
        for r in conn.execute(  # type: ignore[attr-defined]
            select(
                allocations.c.customer_id,
                allocations.c.invoice_id,
                allocations.c.payment_id,
                allocations.c.credit_note_id,
                allocations.c.amount,
                allocations.c.allocated_on,
                allocations.c.origin,
            ).where(allocations.c.origin.like("match:%"))
        )
    }


def test_matches_are_the_same_for_one_customer_some_or_all(
    tmp_path: Path, store_url: str, engine: Engine, clock: FixedClock
) -> None:
    folder = tmp_path / "fec"
    folder.mkdir()
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "fixtures/fec/generate.py"),
            "--lines",
            "4000",
            "--customers",
            "60",
            "--seed",
            "5",
            "--out",
            str(folder / "900000000FEC20261231.txt"),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    fec = folder / "900000000FEC20261231.txt"
    header, *lines = fec.read_text(encoding="utf-8").splitlines()
    # first in the file (so among the first customers in the store): one who
    # only paid in advance, one who only has a credit note, unlettered
    day = "20260105"
    rows = [  # journal, entry, account, customer, name, piece, label, debit, credit
        (
            "BQ",
            "BQX1",
            "41100000",
            "ZADV",
            "Avance SARL",
            "AV1",
            "Acompte",
            "0,00",
            "500,00",
        ),
        ("BQ", "BQX1", "51200000", "", "", "AV1", "Acompte", "500,00", "0,00"),
        ("VE", "VEX1", "41100000", "ZAVO", "Avoir SA", "AA1", "Avoir", "0,00", "80,00"),
        ("VE", "VEX1", "70600000", "", "", "AA1", "Avoir", "80,00", "0,00"),
    ]
    advance = []
    for j, e, a, c, n, p, lab, d, cr in rows:
        fields = [j, j, e, day, a, a, c, n, p, day, lab, d, cr, "", "", day, "", ""]
        advance.append("\t".join(fields))
    fec.write_text("\n".join([header, *advance, *lines]) + "\n", encoding="utf-8")
    config = load(write_config(tmp_path, store_url, str(folder)))
    report = sync_company(config, "acme", engine, clock)
    assert report.matched > 10
    with engine.begin() as conn:
        company = company_ids(conn)["acme"]
        everyone = sorted(conn.execute(select(customers.c.id)).scalars())
        synced = _matches(conn)
        matched = sorted({int(str(m[0])) for m in synced})
        assert 5 < len(matched) < len(everyone)  # some customers have none
        for customer in everyone:  # each alone
            rematch(conn, company, [customer])
        assert _matches(conn) == synced
        assert rematch(conn, company, everyone[::2]) == len(
            [m for m in synced if m[0] in set(everyone[::2])]
        )
        assert _matches(conn) == synced
        assert rematch(conn, company, everyone) == len(synced)
        assert _matches(conn) == synced
        assert rematch(conn, company, matched, methods=()) == 0  # matching off
        assert _matches(conn) == set()
