"""Which open invoices the credit alerts count as disputed, read from the store."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import Engine

from sageconnect.clock import FixedClock
from sageconnect.config import load
from sageconnect.credit.gather import open_invoices
from sageconnect.dunning import pauses
from sageconnect.jobs import sync_company
from sageconnect.store.queries import company_ids
from support import csv_company

CUSTOMERS = (
    "code;name;email;phone;siren;language;credit_limit;insured_limit;no_dunning\n"
    "C1;Client 1;;;;fr;;;0\n"
)
ENTRIES = (
    "id;customer;type;number;date;due;label;amount;match\n"
    "E1;C1;invoice;F1;01/09/2026;01/10/2026;Facture;1000,00;\n"
    "E2;C1;invoice;F2;15/09/2026;15/10/2026;Facture;400,00;\n"
)


def test_a_dispute_counts_until_its_end_day_then_no_longer(
    tmp_path: Path, engine: Engine, store_url: str, clock: FixedClock
) -> None:
    """F1 disputed until 30 November: suspended on the 30th, not on 1 December;
    F2, never disputed, is not."""
    path = csv_company(tmp_path, store_url, CUSTOMERS, ENTRIES)
    sync_company(load(path), "acme", engine, clock)
    with engine.begin() as conn:
        company = company_ids(conn)["acme"]
        pauses.add(
            conn,
            company,
            kind="dispute",
            customer="C1",
            invoice="F1",
            until=dt.date(2026, 11, 30),
            amount=None,
            reason="quantité contestée",
            by="test",
            now=clock.now(),
        )
    with engine.connect() as conn:
        on_30th = open_invoices(conn, company, dt.date(2026, 11, 30))
        on_1st = open_invoices(conn, company, dt.date(2026, 12, 1))
    assert {i.number: i.disputed for i in on_30th} == {"F1": True, "F2": False}
    assert {i.number: i.disputed for i in on_1st} == {"F1": False, "F2": False}
