"""Payer scoring, with figures worked out by hand.

The pure rule first (what a credit manager would compute on paper), then the
same rule fed from the store: lettered payments, a payment matched by its
reference, a credit note (which is no payment), an old open invoice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from sageconnect.clock import FixedClock
from sageconnect.credit.scoring import OpenDue, Score, Settled, score, scores
from sageconnect.model.records import (
    Customer,
    DocKind,
    DueSource,
    Invoice,
    Payment,
    PaymentKind,
    Record,
)
from sageconnect.store.sync import SyncReport, ensure_company, sync

AS_OF = dt.date(2026, 11, 24)


def paid(amount: str, due: dt.date, late: int, invoice: str = "") -> Settled:
    """``amount`` of an invoice due on ``due``, settled ``late`` days after it."""
    return Settled(
        invoice=invoice or f"VE/{due}",
        amount=Decimal(amount),
        due=due,
        settled_on=due + dt.timedelta(days=late),
    )


def days_ago(n: int) -> dt.date:
    return AS_OF - dt.timedelta(days=n)


def owed(amount: str, overdue: int) -> OpenDue:
    return OpenDue(
        invoice=f"VE/open-{overdue}", amount=Decimal(amount), due=days_ago(overdue)
    )


def test_one_invoice_ten_days_late_and_three_times_as_much_on_time() -> None:
    """1000 x 10 days + 3000 x 0 over 4000 = 2.5 days; 3000/4000 on time: B, not A."""
    found = score(
        [paid("1000.00", days_ago(60), 10), paid("3000.00", days_ago(40), 0)],
        [],
        AS_OF,
    )
    assert found == Score(
        grade="B",
        avg_days_late=Decimal("2.50"),
        on_time_share=Decimal("0.750"),
        trend=None,  # everything in the last 90 days: nothing to compare with
        open_overdue_days=None,
        max_overdue_days=0,
        invoices=2,
        settled=Decimal("4000.00"),
        open=Decimal("0.00"),
    )


def test_money_before_the_due_date_is_on_time_not_early() -> None:
    """Paid 5 days early counts 0 days, not -5: 1000 x 0 + 1000 x 8 = 4 days, A."""
    found = score(
        [
            paid("1000.00", days_ago(30), -5),
            paid("1000.00", days_ago(50), 8, "VE/2"),
            paid("3000.00", days_ago(70), 0, "VE/3"),
        ],
        [],
        AS_OF,
    )
    # 8000 / 5000 = 1.6 days; 4000 / 5000 on time
    assert (found.avg_days_late, found.on_time_share, found.grade) == (
        Decimal("1.60"),
        Decimal("0.800"),
        "A",
    )


@pytest.mark.parametrize(
    ("late", "avg", "grade"),
    [
        (50, "5", "A"),
        (60, "6", "B"),
        (150, "15", "B"),
        (160, "16", "C"),
        (450, "45", "C"),
        (460, "46", "D"),
    ],
)
def test_grades_by_average_delay(late: int, avg: str, grade: str) -> None:
    """9000 on time and 1000 ``late`` days late: a tenth of ``late`` on average."""
    found = score(
        [
            paid("9000.00", days_ago(20), 0, "VE/1"),
            paid("1000.00", days_ago(late + 10), late, "VE/2"),
        ],
        [],
        AS_OF,
    )
    assert (found.avg_days_late, found.on_time_share, found.grade) == (
        Decimal(avg),
        Decimal("0.9"),
        grade,
    )


def test_a_partly_paid_invoice_counts_each_payment_and_the_invoice_once() -> None:
    """600 on the due day, 400 thirty days later: 12 days, 0.6 on time, one invoice."""
    due = days_ago(120)
    found = score(
        [paid("600.00", due, 0, "VE/1"), paid("400.00", due, 30, "VE/1")],
        [],
        AS_OF,
    )
    assert (found.avg_days_late, found.on_time_share, found.invoices) == (
        Decimal("12.00"),
        Decimal("0.600"),
        1,
    )


def test_only_the_last_365_days_count() -> None:
    """Money settled 365 days ago is out, 364 days ago is in."""
    old = Settled(
        invoice="VE/old",
        amount=Decimal("9000.00"),
        due=days_ago(500),
        settled_on=days_ago(365),
    )
    kept = Settled(
        invoice="VE/kept",
        amount=Decimal("1000.00"),
        due=days_ago(374),
        settled_on=days_ago(364),
    )
    later = Settled(  # after as_of: not known yet
        invoice="VE/later",
        amount=Decimal("1000.00"),
        due=days_ago(10),
        settled_on=AS_OF + dt.timedelta(days=1),
    )
    found = score([old, kept, later], [], AS_OF)
    assert (found.avg_days_late, found.invoices, found.settled) == (
        Decimal("10.00"),
        1,
        Decimal("1000.00"),
    )


def test_trend_is_positive_when_paying_later_than_before() -> None:
    """5 days late 200 days ago, 20 days late last month: +15 (worse); avg 12.5."""
    found = score(
        [
            paid("1000.00", days_ago(205), 5, "VE/1"),
            paid("1000.00", days_ago(50), 20, "VE/2"),
        ],
        [],
        AS_OF,
    )
    assert (found.trend, found.avg_days_late, found.grade) == (
        Decimal("15.00"),
        Decimal("12.50"),
        "B",
    )


def test_trend_is_negative_when_paying_sooner_than_before() -> None:
    """30 days late in the spring, on time lately: -30; the 90-day edge is 'recent'."""
    found = score(
        [
            paid("1000.00", days_ago(250), 30, "VE/1"),
            paid("1000.00", days_ago(89), 0, "VE/2"),  # settled 89 days ago: recent
        ],
        [],
        AS_OF,
    )
    assert found.trend == Decimal("-30.00")
    edge = score(
        [
            paid("1000.00", days_ago(100), 10, "VE/1"),  # settled 90 days ago: before
            paid("1000.00", days_ago(10), 0, "VE/2"),
        ],
        [],
        AS_OF,
    )
    assert edge.trend == Decimal("-10.00")


def test_an_invoice_open_more_than_ninety_days_overdue_makes_a_d() -> None:
    """A spotless history, but 500 open 100 days overdue: D; 500 not yet due weighs 0."""
    history = [paid("5000.00", days_ago(30), 0)]
    found = score(history, [owed("500.00", 100), owed("500.00", -10)], AS_OF)
    assert (found.grade, found.open_overdue_days, found.max_overdue_days) == (
        "D",
        Decimal("50.00"),
        100,
    )
    assert found.open == Decimal("1000.00")
    assert (found.avg_days_late, found.on_time_share) == (Decimal("0.00"), Decimal(1))
    # exactly 90 days is not yet "more than 90"
    assert score(history, [owed("500.00", 90)], AS_OF).grade == "A"
    # and with no history at all, it is still a D
    assert score([], [owed("500.00", 91)], AS_OF).grade == "D"


def test_a_customer_with_no_history() -> None:
    assert score([], [], AS_OF) == Score(
        grade=None,
        avg_days_late=None,
        on_time_share=None,
        trend=None,
        open_overdue_days=None,
        max_overdue_days=0,
        invoices=0,
        settled=Decimal("0.00"),
        open=Decimal("0.00"),
    )
    # open invoices, none very late, nothing paid yet: nothing to grade on
    found = score([], [owed("300.00", 20), owed("100.00", 0)], AS_OF)
    assert (found.grade, found.open_overdue_days) == (None, Decimal("15.00"))


# --- from the store ---


class _ListReading:
    complete = True

    def __init__(self, records: list[Record]) -> None:
        self._records = records

    def records(self) -> Iterator[Record]:
        return iter(self._records)

    def checkpoint(self) -> str:
        return "list"


class _ListMapper:
    name = "list"

    def __init__(self, records: list[Record]) -> None:
        self._records = records

    def read(self, checkpoint: str | None, *, full: bool) -> _ListReading:
        return _ListReading(self._records)


def invoice(
    customer: str,
    number: str,
    amount: str,
    due: dt.date,
    *,
    lettering: str | None = None,
    kind: DocKind = DocKind.INVOICE,
) -> Invoice:
    return Invoice(
        key=f"VE/{number}",
        customer=customer,
        number=number,
        kind=kind,
        issued=due - dt.timedelta(days=30),
        due=due,
        due_source=DueSource.SOURCE,
        amount=Decimal(amount),
        label=f"Facture {number}",
        lettering=lettering,
    )


def payment(
    customer: str,
    key: str,
    amount: str,
    received: dt.date,
    *,
    lettering: str | None = None,
    label: str = "",
) -> Payment:
    return Payment(
        key=key,
        customer=customer,
        kind=PaymentKind.RECEIPT,
        received=received,
        amount=Decimal(amount),
        label=label,
        lettering=lettering,
    )


def test_scores_from_the_store(engine: Engine, clock: FixedClock) -> None:
    """C1 pays by lettering (2.5 days, B), C2 by reference (10 days) but owes an invoice
    100 days overdue (D), C3 has no history; a credit note settles nothing."""
    d1, d2 = dt.date(2026, 9, 1), dt.date(2026, 10, 1)
    records: list[Record] = [
        Customer(code="C1", name="Café de l'Étoile"),
        Customer(code="C2", name="Garage Müller"),
        Customer(code="C3", name="Nouveau client"),
        invoice("C1", "FA1", "1000.00", d1, lettering="A"),
        payment("C1", "BQ/1", "1000.00", d1 + dt.timedelta(days=10), lettering="A"),
        invoice("C1", "FA2", "3000.00", d2, lettering="B"),
        payment("C1", "BQ/2", "3000.00", d2, lettering="B"),
        # a credit note cancelling an invoice long after its due date: not a payment
        invoice("C1", "FA3", "500.00", dt.date(2026, 6, 1), lettering="C"),
        invoice(
            "C1",
            "AV1",
            "-500.00",
            dt.date(2026, 9, 30),
            lettering="C",
            kind=DocKind.CREDIT_NOTE,
        ),
        invoice("C2", "FA5", "600.00", dt.date(2026, 11, 1)),
        payment("C2", "BQ/5", "600.00", dt.date(2026, 11, 11), label="VIR FA5"),
        invoice("C2", "FA6", "2000.00", AS_OF - dt.timedelta(days=100)),
    ]
    company = ensure_company(engine, "acme", "ACME", "EUR")
    report = SyncReport(run_uid="r1", company="acme", source="list")
    sync(engine, company, report, _ListMapper(records), clock.now)
    assert report.status == "completed", report.rejects
    with engine.connect() as conn:
        found = scores(conn, company, AS_OF)
    assert sorted(found) == ["C1", "C2", "C3"]
    c1, c2, c3 = found["C1"], found["C2"], found["C3"]
    assert (c1.grade, c1.avg_days_late, c1.on_time_share, c1.invoices) == (
        "B",
        Decimal("2.50"),
        Decimal("0.750"),
        2,
    )
    assert (c1.open, c1.open_overdue_days) == (Decimal("0.00"), None)
    assert (c2.grade, c2.avg_days_late, c2.invoices, c2.max_overdue_days) == (
        "D",
        Decimal("10.00"),
        1,
        100,
    )
    assert (c2.open, c2.open_overdue_days) == (Decimal("2000.00"), Decimal("100.00"))
    assert c3 == score([], [], AS_OF)
    # a year on, C1's settlements are out of the window
    with engine.connect() as conn:
        later = scores(conn, company, AS_OF + dt.timedelta(days=400))
    assert (later["C1"].grade, later["C1"].invoices) == (None, 0)
