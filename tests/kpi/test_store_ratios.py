"""DSO, CEI and recovery read from the store, with a partial payment and a credit
note, computed by hand.

As of 24 November 2026 (period 25 August - 24 November, 92 days; months
25/10-24/11, 25/09-24/10, 25/08-24/09):

| item | date | due | amount | settled |
|---|---|---|---|---|
| F1 | 01/07 | 31/07 | 1 000 | 600 by P1 on 10/09 (lettering a) |
| F2 | 01/08 | 15/08 | 500 | by the credit note A1 on 20/09 (lettering b) |
| F3 | 01/10 | 31/10 | 2 000 | |
| F4 | 20/11 | 20/12 | 300 | |

AR on 24 August 1 500 (both overdue on day one); sales F3 + F4 - A1 = 1 800;
AR on 24 November 400 + 2 000 + 300 = 2 700, of which 300 not due.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine, insert, select

from sageconnect.clock import FixedClock
from sageconnect.config import Config, load
from sageconnect.jobs import sync_company
from sageconnect.kpi.refresh import board_for
from sageconnect.store.queries import company_ids
from sageconnect.store.tables import customers, invoices, reminder_items, reminders

D = Decimal
ENTRIES = (
    "id;customer;type;number;date;due;label;amount;match\n"
    "E1;C1;invoice;F1;01/07/2026;31/07/2026;Facture;1000,00;a\n"
    "E2;C1;invoice;F2;01/08/2026;15/08/2026;Facture;500,00;b\n"
    "E3;C1;payment;P1;10/09/2026;;Virement;600,00;a\n"
    "E4;C1;credit_note;A1;20/09/2026;;Avoir;500,00;b\n"
    "E5;C1;invoice;F3;01/10/2026;31/10/2026;Facture;2000,00;\n"
    "E6;C1;invoice;F4;20/11/2026;20/12/2026;Facture;300,00;\n"
)


def synced(tmp_path: Path, store_url: str, engine: Engine, clock: FixedClock) -> Config:
    """The ledger above, synced into the store as company acme."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "customers.csv").write_text(
        "code;name;email;phone;siren;language;credit_limit;insured_limit;no_dunning\n"
        "C1;Client 1;;;;fr;;;0\n",
        encoding="utf-8",
    )
    (src / "entries.csv").write_text(ENTRIES, encoding="utf-8")
    path = tmp_path / "config.toml"
    path.write_text(
        f'[store]\nurl = "{store_url}"\n[companies.acme]\nname = "ACME"\n'
        '[companies.acme.source]\nmapping = "csv"\npath = "src"\n',
        encoding="utf-8",
    )
    config = load(path)
    sync_company(config, "acme", engine, clock)
    return config


def test_ratios_with_a_partial_payment_and_a_credit_note(
    tmp_path: Path, store_url: str, engine: Engine, clock: FixedClock
) -> None:
    """DSO 138,0 / count-back 112,4; best 15,3; ADD 122,7; CEI 20 %; recovery 73,3 %."""
    config = synced(tmp_path, store_url, engine, clock)
    with engine.connect() as conn:
        company = company_ids(conn)["acme"]
        r = board_for(conn, config, "acme", company, dt.date(2026, 11, 24)).ratios
    assert (r.sales, r.receivable, r.not_due, r.overdue) == (
        D("1800.00"),
        D("2700.00"),
        D("300.00"),
        D("2400.00"),
    )
    # count-back: 31 days (F4 300), 30 (F3 2 000), 31 (A1's month, no sales),
    # then 400 at 1 800 / 92 a day: 20.4 days
    assert (r.dso_simple, r.dso_countback, r.best_dso, r.add) == (
        D("138.0"),
        D("112.4"),
        D("15.3"),
        D("122.7"),
    )
    # CEI (1 500 + 1 800 - 2 700) / (1 500 + 1 800 - 300); 1 100 of 1 500 settled
    assert (r.cei, r.overdue_share, r.recovery_rate) == (
        D("20.0"),
        D("88.9"),
        D("73.3"),
    )


def test_dunning_activity_from_the_reminders_table(
    tmp_path: Path, store_url: str, engine: Engine, clock: FixedClock
) -> None:
    """F1 reminded on 1 September, 600 paid since; F3 at step 1 then step 2, unpaid."""
    config = synced(tmp_path, store_url, engine, clock)
    with engine.begin() as conn:
        company = company_ids(conn)["acme"]
        ids = dict(conn.execute(select(invoices.c.number, invoices.c.id)).all())
        customer = conn.execute(select(customers.c.id)).scalar_one()
        for n, (step, day, number, open_) in enumerate(
            [
                ("step1", dt.date(2026, 9, 1), "F1", "1000.00"),
                ("step1", dt.date(2026, 11, 5), "F3", "2000.00"),
                ("step2", dt.date(2026, 11, 15), "F3", "2000.00"),
            ]
        ):
            reminder = conn.execute(
                insert(reminders).values(
                    key=f"k{n}",
                    company_id=company,
                    customer_id=customer,
                    scenario="standard",
                    step=step,
                    channel="email",
                    planned_on=day,
                    state="sent",
                    total=D(open_),
                    payload="{}",
                    payload_hash="h",
                    attempts=1,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            conn.execute(
                insert(reminder_items).values(
                    reminder_id=reminder,
                    invoice_id=ids[number],
                    step=step,
                    channel="email",
                    open=D(open_),
                )
            )
        rows = board_for(conn, config, "acme", company, dt.date(2026, 11, 24)).activity
    assert [
        (a.step, a.messages, a.invoices, a.reminded, a.paid_after, a.paid_share)
        for a in rows
    ] == [
        ("step1", 2, 2, D("3000.00"), D("600.00"), D("20.0")),
        ("step2", 1, 1, D("2000.00"), D("0.00"), D("0.0")),
    ]
