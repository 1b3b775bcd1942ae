"""Pauses on an invoice paid in instalments, or on one invoice only, from the store."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine

from sageconnect.clock import FixedClock
from sageconnect.config import load
from sageconnect.dunning import pauses
from sageconnect.jobs import sync_company
from sageconnect.kpi.dashboard import Dashboard
from sageconnect.kpi.refresh import board_for
from sageconnect.store.queries import company_ids
from support import csv_company

D = Decimal
CUSTOMERS = (
    "code;name;email;phone;siren;language;credit_limit;insured_limit;no_dunning\n"
    "C1;Client 1;;;;fr;;;0\n"
)
# F1 in three instalments of 1 000, the first two overdue on 24 November 2026;
# F2, 400 overdue since 15 October.
ENTRIES = (
    "id;customer;type;number;date;due;label;amount;match\n"
    "E1;C1;invoice;F1;01/09/2026;01/10/2026;Facture;1000,00;\n"
    "E2;C1;invoice;F1;01/09/2026;01/11/2026;Facture;1000,00;\n"
    "E3;C1;invoice;F1;01/09/2026;01/12/2026;Facture;1000,00;\n"
    "E4;C1;invoice;F2;15/09/2026;15/10/2026;Facture;400,00;\n"
)


def board(
    tmp_path: Path,
    store_url: str,
    engine: Engine,
    clock: FixedClock,
    **pause: object,
) -> Dashboard:
    path = csv_company(tmp_path, store_url, CUSTOMERS, ENTRIES)
    config = load(path)
    sync_company(config, "acme", engine, clock)
    with engine.begin() as conn:
        company = company_ids(conn)["acme"]
        pauses.add(
            conn,
            company,
            customer="C1",
            reason="test",
            by="test",
            now=clock.now(),
            **pause,  # type: ignore[arg-type]
        )
        return board_for(conn, config, "acme", company, dt.date(2026, 11, 24))


def test_a_promised_amount_on_instalments_is_promised_once(
    tmp_path: Path, store_url: str, engine: Engine, clock: FixedClock
) -> None:
    """1 500 promised for 9 December on F1: 1 500 that week, not its 3 000."""
    f = board(
        tmp_path,
        store_url,
        engine,
        clock,
        kind="promise",
        invoice="F1",
        until=dt.date(2026, 12, 9),
        amount=D("1500.00"),
    ).forecast
    promised = [(w.start, w.promised) for w in f.weeks if w.promised]
    assert promised == [(dt.date(2026, 12, 7), D("1500.00"))]
    assert f.weeks[-1].cumulative == D("3400.00")


def test_a_hold_on_one_invoice_leaves_the_customer_on_the_call_list(
    tmp_path: Path, store_url: str, engine: Engine, clock: FixedClock
) -> None:
    """F1 on hold: C1 is still called for F2's 400, as the planner still reminds it."""
    calls = board(
        tmp_path,
        store_url,
        engine,
        clock,
        kind="hold",
        invoice="F1",
        until=None,
        amount=None,
    ).priority
    assert [(c.customer, c.overdue) for c in calls] == [("C1", D("400.00"))]


def test_a_dispute_whose_until_passed_counts_as_chaseable_again(
    tmp_path: Path, store_url: str, engine: Engine, clock: FixedClock
) -> None:
    """F2 disputed until 20 November: on the 24th it is dunned again, so called."""
    b = board(
        tmp_path,
        store_url,
        engine,
        clock,
        kind="dispute",
        invoice="F2",
        until=dt.date(2026, 11, 20),
        amount=None,
    )
    assert b.forecast.disputed == D("0.00")
    assert [(c.customer, c.overdue) for c in b.priority] == [("C1", D("2400.00"))]
