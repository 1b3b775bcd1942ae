"""Every KPI read from the store on a five-invoice ledger, computed by hand.

As of Tuesday 24 November 2026 (period 25 August - 24 November, 92 days):

| customer | invoice | issued | due | amount | what else |
|---|---|---|---|---|---|
| C1 | F1 | 01/09 | 01/10 | 1000 | insured; declare within 60 days: by 30/11 |
| C2 | F2 | 01/10 | 31/10 | 500 | disputed |
| C3 | F3 | 10/10 | 09/11 | 300 | promised for 01/12 |
| C4 | F4 | 01/08 | 31/08 | 200 | customer on hold |
| C5 | F5 | 20/11 | 20/12 | 400 | not due |
"""

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

D = Decimal
CUSTOMERS = (
    "code;name;email;phone;siren;language;credit_limit;insured_limit;no_dunning\n"
    + "".join(
        f"C{n};Client {n};;;;fr;;{'10000,00' if n == 1 else ''};0\n"
        for n in range(1, 6)
    )
)
ENTRIES = (
    "id;customer;type;number;date;due;label;amount;match\n"
    "E1;C1;invoice;F1;01/09/2026;01/10/2026;Facture;1000,00;\n"
    "E2;C2;invoice;F2;01/10/2026;31/10/2026;Facture;500,00;\n"
    "E3;C3;invoice;F3;10/10/2026;09/11/2026;Facture;300,00;\n"
    "E4;C4;invoice;F4;01/08/2026;31/08/2026;Facture;200,00;\n"
    "E5;C5;invoice;F5;20/11/2026;20/12/2026;Facture;400,00;\n"
)


def board(
    tmp_path: Path,
    store_url: str,
    engine: Engine,
    clock: FixedClock,
    *,
    as_of: dt.date = dt.date(2026, 11, 24),
    promise_broken: dt.datetime | None = None,
) -> Dashboard:
    src = tmp_path / "src"
    src.mkdir()
    (src / "customers.csv").write_text(CUSTOMERS, encoding="utf-8")
    (src / "entries.csv").write_text(ENTRIES, encoding="utf-8")
    path = tmp_path / "config.toml"
    path.write_text(
        f'[store]\nurl = "{store_url}"\n'
        '[credit.policies.main]\ninsurer = "Allianz Trade"\ndeclaration_days = 60\n'
        '[companies.acme]\nname = "ACME"\npolicy = "main"\n'
        '[companies.acme.source]\nmapping = "csv"\npath = "src"\n',
        encoding="utf-8",
    )
    config = load(path)
    sync_company(config, "acme", engine, clock)
    now = clock.now()
    with engine.begin() as conn:
        company = company_ids(conn)["acme"]
        for kind, customer, invoice, until in (
            ("dispute", "C2", "F2", None),
            ("promise", "C3", "F3", dt.date(2026, 12, 1)),
            ("hold", "C4", None, None),
        ):
            pauses.add(
                conn,
                company,
                kind=kind,
                customer=customer,
                invoice=invoice,
                reason="test",
                until=until,
                amount=None,
                by="test",
                now=now,
            )
        if promise_broken is not None:
            pauses.break_promises(conn, company, promise_broken.date(), promise_broken)
        return board_for(conn, config, "acme", company, as_of)


def test_aged_balance_from_the_store(
    tmp_path: Path, store_url: str, engine: Engine, clock: FixedClock
) -> None:
    """400 not due; 500 + 300 at 1-30; 1 000 at 31-60; 200 at 61-90: 2 400."""
    t = board(tmp_path, store_url, engine, clock).aged_total
    assert (t.not_due, t.buckets, t.total) == (
        D("400.00"),
        (D("800.00"), D("1000.00"), D("200.00"), D("0.00")),
        D("2400.00"),
    )


def test_ratios_from_the_store(
    tmp_path: Path, store_url: str, engine: Engine, clock: FixedClock
) -> None:
    """Sales 2 200 over 92 days; DSO 2 400 / 2 200 × 92 = 100.4 both ways; CEI 0."""
    r = board(tmp_path, store_url, engine, clock).ratios
    assert (r.period_start, r.days, r.sales) == (dt.date(2026, 8, 25), 92, D("2200.00"))
    assert (r.dso_simple, r.dso_countback, r.best_dso, r.add) == (
        D("100.4"),
        D("100.4"),
        D("16.7"),
        D("83.7"),
    )
    assert (r.cei, r.overdue_share, r.recovery_rate) == (D("0.0"), D("83.3"), None)


def test_forecast_uses_promises_and_leaves_disputes_out(
    tmp_path: Path, store_url: str, engine: Engine, clock: FixedClock
) -> None:
    """F1 and F4 late: now; F3 promised for 1 December; F5 on its due date; F2 apart."""
    f = board(tmp_path, store_url, engine, clock).forecast
    assert [(w.habit, w.promised) for w in f.weeks[:4]] == [
        (D("1200.00"), D("0.00")),
        (D("0.00"), D("300.00")),
        (D("0.00"), D("0.00")),
        (D("400.00"), D("0.00")),
    ]
    assert (f.disputed, f.weeks[-1].cumulative) == (D("500.00"), D("1900.00"))


def test_priority_calls_only_the_insured_customer_before_its_deadline(
    tmp_path: Path, store_url: str, engine: Engine, clock: FixedClock
) -> None:
    """Disputed, promised and on-hold customers are not called; C1 must be declared."""
    calls = board(tmp_path, store_url, engine, clock).priority
    assert [(c.customer, c.deadline) for c in calls] == [("C1", dt.date(2026, 11, 30))]
    assert calls[0].reason.startswith("déclaration à Allianz Trade de F1 : dans 6 j")


def test_a_past_date_does_not_see_pauses_entered_later(
    tmp_path: Path, store_url: str, engine: Engine, clock: FixedClock
) -> None:
    """As of 20 November, the dispute, promise and hold of the 24th did not exist."""
    b = board(tmp_path, store_url, engine, clock, as_of=dt.date(2026, 11, 20))
    assert b.forecast.disputed == D("0.00")
    assert sum((w.promised for w in b.forecast.weeks), D("0.00")) == D("0.00")
    assert sorted(c.customer for c in b.priority) == ["C1", "C2", "C3", "C4"]


def test_a_past_date_sees_a_promise_broken_later_as_running(
    tmp_path: Path, store_url: str, engine: Engine, clock: FixedClock
) -> None:
    """F3's promise (1 December) is noted broken on the 2nd: on the 1st it still runs."""
    broken = dt.datetime(2026, 12, 2, 8, 0, tzinfo=dt.UTC)
    b = board(
        tmp_path,
        store_url,
        engine,
        clock,
        as_of=dt.date(2026, 12, 1),
        promise_broken=broken,
    )
    assert [w.promised for w in b.forecast.weeks[:1]] == [D("300.00")]
    assert [c.customer for c in b.priority] == ["C1"]
