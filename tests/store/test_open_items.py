"""Open items as a credit manager reads them, after a sync through the real store."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

from sqlalchemy import Engine

from sageconnect.clock import FixedClock
from sageconnect.model.records import (
    Customer,
    DocKind,
    DueSource,
    Invoice,
    Payment,
    PaymentKind,
    Record,
)
from sageconnect.store.open_items import OpenItem, open_items
from sageconnect.store.queries import Balance, balances
from sageconnect.store.sync import SyncReport, ensure_company, sync

CAFE = Customer(code="C1", name="Café de l'Étoile")


class _ListReading:
    complete = True

    def __init__(self, records: list[Record]) -> None:
        self._records = records

    def records(self) -> Iterator[Record]:
        return iter(self._records)

    def checkpoint(self) -> str:
        return "list"


class _ListMapper:
    """A mapper over a fixed list: each read is a complete snapshot."""

    name = "list"

    def __init__(self, records: list[Record]) -> None:
        self._records = records

    def read(self, checkpoint: str | None, *, full: bool) -> _ListReading:
        return _ListReading(self._records)


def invoice(
    number: str,
    amount: str,
    issued: dt.date,
    due: dt.date,
    *,
    kind: DocKind = DocKind.INVOICE,
    lettering: str | None = None,
    currency: str = "EUR",
    currency_amount: Decimal | None = None,
) -> Invoice:
    return Invoice(
        key=f"VE/{number}",
        customer=CAFE.code,
        number=number,
        kind=kind,
        issued=issued,
        due=due,
        due_source=DueSource.SOURCE,
        amount=Decimal(amount),
        currency=currency,
        currency_amount=currency_amount,
        label=f"Facture {number}",
        lettering=lettering,
    )


def payment(
    key: str,
    amount: str,
    received: dt.date,
    *,
    label: str = "",
    reference: str = "",
    lettering: str | None = None,
) -> Payment:
    return Payment(
        key=key,
        customer=CAFE.code,
        kind=PaymentKind.RECEIPT,
        received=received,
        amount=Decimal(amount),
        reference=reference,
        label=label,
        lettering=lettering,
    )


def load(engine: Engine, clock: FixedClock, *records: Record) -> int:
    """Sync the customer and ``records`` into a new company; return its id."""
    company = ensure_company(engine, "acme", "ACME", "EUR")
    report = SyncReport(run_uid="r1", company="acme", source="list")
    sync(engine, company, report, _ListMapper([CAFE, *records]), clock.now)
    assert (report.status, report.inserted) == ("completed", len(records) + 1)
    return company


def items_on(engine: Engine, company: int, as_of: dt.date) -> list[OpenItem]:
    with engine.connect() as conn:
        return open_items(conn, company, as_of)


def balance_on(engine: Engine, company: int, as_of: dt.date) -> Balance:
    with engine.connect() as conn:
        (found,) = balances(conn, company, as_of)
    return found


def summary(item: OpenItem) -> tuple[str, str, Decimal, Decimal, Decimal, int, str]:
    return (
        item.kind,
        item.number,
        item.amount,
        item.open,
        item.to_chase,
        item.days_overdue,
        item.settled_by,
    )


def test_a_partial_payment_leaves_the_rest_to_chase(
    engine: Engine, clock: FixedClock
) -> None:
    """1200.00 due 4 February, 400.00 lettered with it: 800.00 open, 25 days late on 1 March."""
    company = load(
        engine,
        clock,
        invoice(
            "FA-101", "1200.00", dt.date(2026, 1, 5), dt.date(2026, 2, 4), lettering="A"
        ),
        payment("BQ/1", "400.00", dt.date(2026, 2, 10), label="Acompte", lettering="A"),
    )
    (item,) = items_on(engine, company, dt.date(2026, 3, 1))
    assert summary(item) == (
        "invoice",
        "FA-101",
        Decimal("1200.00"),
        Decimal("800.00"),
        Decimal("800.00"),
        25,
        "lettering",
    )
    assert (item.pending, item.due) == (Decimal("0.00"), dt.date(2026, 2, 4))
    b = balance_on(engine, company, dt.date(2026, 3, 1))
    assert (b.ledger_balance, b.open_invoices, b.unapplied_credits, b.overdue) == (
        Decimal("800.00"),
        Decimal("800.00"),
        Decimal("0.00"),
        Decimal("800.00"),
    )


def test_one_payment_naming_two_invoices_settles_both(
    engine: Engine, clock: FixedClock
) -> None:
    """'VIR FA-102/FA-103' pays those two, not the older FA-101, which stays open."""
    company = load(
        engine,
        clock,
        invoice("FA-101", "300.00", dt.date(2026, 1, 2), dt.date(2026, 1, 31)),
        invoice("FA-102", "1200.00", dt.date(2026, 1, 10), dt.date(2026, 2, 9)),
        invoice("FA-103", "600.00", dt.date(2026, 1, 20), dt.date(2026, 2, 19)),
        payment("BQ/1", "1800.00", dt.date(2026, 2, 20), label="VIR FA-102/FA-103"),
    )
    assert [summary(i) for i in items_on(engine, company, dt.date(2026, 2, 28))] == [
        (
            "invoice",
            "FA-101",
            Decimal("300.00"),
            Decimal("300.00"),
            Decimal("300.00"),
            28,
            "",
        ),
    ]
    b = balance_on(engine, company, dt.date(2026, 2, 28))
    assert (b.ledger_balance, b.overdue, b.oldest_due) == (
        Decimal("300.00"),
        Decimal("300.00"),
        dt.date(2026, 1, 31),
    )


def test_a_short_payment_naming_two_invoices_leaves_the_rest_on_the_second(
    engine: Engine, clock: FixedClock
) -> None:
    """1750.00 for 'FA-102/FA-103' (1800.00): FA-103 keeps 50.00, settled by reference."""
    company = load(
        engine,
        clock,
        invoice("FA-101", "300.00", dt.date(2026, 1, 2), dt.date(2026, 1, 31)),
        invoice("FA-102", "1200.00", dt.date(2026, 1, 10), dt.date(2026, 2, 9)),
        invoice("FA-103", "600.00", dt.date(2026, 1, 20), dt.date(2026, 2, 19)),
        payment("BQ/1", "1750.00", dt.date(2026, 2, 20), label="VIR FA-102/FA-103"),
    )
    assert [summary(i) for i in items_on(engine, company, dt.date(2026, 2, 28))] == [
        (
            "invoice",
            "FA-101",
            Decimal("300.00"),
            Decimal("300.00"),
            Decimal("300.00"),
            28,
            "",
        ),
        (
            "invoice",
            "FA-103",
            Decimal("600.00"),
            Decimal("50.00"),
            Decimal("50.00"),
            9,
            "match:reference",
        ),
    ]


def test_a_credit_note_lettered_with_its_invoice_reduces_it(
    engine: Engine, clock: FixedClock
) -> None:
    """A 1000.00 invoice lettered with a 250.00 credit note: 750.00 left to chase."""
    company = load(
        engine,
        clock,
        invoice(
            "FA-101", "1000.00", dt.date(2026, 1, 5), dt.date(2026, 2, 4), lettering="B"
        ),
        invoice(
            "AV-7",
            "-250.00",
            dt.date(2026, 1, 15),
            dt.date(2026, 1, 15),
            kind=DocKind.CREDIT_NOTE,
            lettering="B",
        ),
    )
    (item,) = items_on(engine, company, dt.date(2026, 2, 14))
    assert summary(item) == (
        "invoice",
        "FA-101",
        Decimal("1000.00"),
        Decimal("750.00"),
        Decimal("750.00"),
        10,
        "lettering",
    )
    b = balance_on(engine, company, dt.date(2026, 2, 14))
    assert (b.ledger_balance, b.open_invoices, b.unapplied_credits) == (
        Decimal("750.00"),
        Decimal("750.00"),
        Decimal("0.00"),
    )
    # before the credit note was issued, the whole invoice was open
    (before,) = items_on(engine, company, dt.date(2026, 1, 14))
    assert (before.open, before.days_overdue, before.settled_by) == (
        Decimal("1000.00"),
        0,
        "",
    )


def test_a_dollar_invoice_half_paid_shows_both_currencies(
    engine: Engine, clock: FixedClock
) -> None:
    """USD 1100.00 booked EUR 1000.00, EUR 500.00 received: EUR 500.00 / USD 550.00 open."""
    company = load(
        engine,
        clock,
        invoice(
            "FA-201",
            "1000.00",
            dt.date(2026, 3, 2),
            dt.date(2026, 4, 1),
            lettering="C",
            currency="USD",
            currency_amount=Decimal("1100.00"),
        ),
        payment("BQ/1", "500.00", dt.date(2026, 3, 20), lettering="C"),
    )
    (item,) = items_on(engine, company, dt.date(2026, 4, 11))
    assert (item.number, item.currency, item.amount, item.open) == (
        "FA-201",
        "USD",
        Decimal("1000.00"),
        Decimal("500.00"),
    )
    assert (item.open_currency, item.to_chase, item.days_overdue) == (
        Decimal("550.00"),
        Decimal("500.00"),
        10,
    )


def test_a_payment_counts_only_from_its_date(engine: Engine, clock: FixedClock) -> None:
    """The day before the money came the invoice is fully open and overdue; then it is not."""
    company = load(
        engine,
        clock,
        invoice("FA-101", "1200.00", dt.date(2026, 1, 5), dt.date(2026, 2, 4)),
        payment("BQ/1", "1200.00", dt.date(2026, 2, 10), label="Virement FA-101"),
    )
    (item,) = items_on(engine, company, dt.date(2026, 2, 9))
    assert summary(item) == (
        "invoice",
        "FA-101",
        Decimal("1200.00"),
        Decimal("1200.00"),
        Decimal("1200.00"),
        5,
        "",
    )
    b = balance_on(engine, company, dt.date(2026, 2, 9))
    assert (b.ledger_balance, b.overdue, b.oldest_due) == (
        Decimal("1200.00"),
        Decimal("1200.00"),
        dt.date(2026, 2, 4),
    )
    assert items_on(engine, company, dt.date(2026, 2, 10)) == []
    assert balance_on(engine, company, dt.date(2026, 2, 10)).ledger_balance == Decimal(
        "0.00"
    )


def test_money_beyond_everything_open_shows_as_a_credit(
    engine: Engine, clock: FixedClock
) -> None:
    """500.00 received against 300.00 owed: the invoice is settled, 200.00 is unapplied."""
    company = load(
        engine,
        clock,
        invoice("FA-101", "300.00", dt.date(2026, 1, 5), dt.date(2026, 2, 4)),
        payment("BQ/1", "500.00", dt.date(2026, 2, 10), reference="CHQ 4411"),
    )
    (item,) = items_on(engine, company, dt.date(2026, 3, 1))
    assert summary(item) == (
        "payment",
        "CHQ 4411",
        Decimal("-500.00"),
        Decimal("-200.00"),
        Decimal("0.00"),
        0,
        "match:oldest",
    )
    assert (item.due, item.issued, item.pending) == (
        None,
        dt.date(2026, 2, 10),
        Decimal("0.00"),
    )
    b = balance_on(engine, company, dt.date(2026, 3, 1))
    assert (b.ledger_balance, b.open_invoices, b.unapplied_credits) == (
        Decimal("-200.00"),
        Decimal("0.00"),
        Decimal("200.00"),
    )
