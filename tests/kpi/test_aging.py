"""The aged balance on a hand-computed ledger."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sageconnect.kpi.aging import Owed, aged_balance, bucket_labels, total

AS_OF = dt.date(2026, 11, 24)


def owed(customer: str, amount: str, days_late: int | None) -> Owed:
    due = None if days_late is None else AS_OF - dt.timedelta(days=days_late)
    return Owed(
        customer=customer,
        name=customer.lower(),
        open=Decimal(amount),
        due=due,
        issued=AS_OF - dt.timedelta(days=200),
    )


def test_each_item_lands_in_its_bucket_and_credits_stay_apart() -> None:
    """Due today is not due, 1 and 30 days are 1-30, 31 is 31-60, 91 is over 90."""
    rows = aged_balance(
        [
            owed("C1", "100.00", 0),
            owed("C1", "200.00", 1),
            owed("C1", "300.00", 30),
            owed("C1", "400.00", 31),
            owed("C1", "500.00", 91),
            owed("C1", "-150.00", None),
            owed("C1", "60.00", -10),
        ],
        AS_OF,
        (30, 60, 90),
    )
    assert len(rows) == 1
    row = rows[0]
    assert row.not_due == Decimal("160.00")
    assert row.buckets == (
        Decimal("500.00"),
        Decimal("400.00"),
        Decimal("0.00"),
        Decimal("500.00"),
    )
    assert row.unapplied == Decimal("-150.00")
    assert row.total == Decimal("1410.00")
    assert row.overdue == Decimal("1400.00")


def test_an_item_without_due_date_is_aged_from_its_issue_date() -> None:
    """An invoice issued 200 days ago with no due date is over 90 days late."""
    rows = aged_balance([owed("C1", "80.00", None)], AS_OF, (30, 60, 90))
    assert rows[0].buckets[-1] == Decimal("80.00")


def test_buckets_follow_the_configured_bounds() -> None:
    """Bounds (15, 45) give 1-15, 16-45 and over 45 days."""
    assert bucket_labels((15, 45)) == ["1-15", "16-45", "over 45"]
    rows = aged_balance(
        [owed("C1", "10.00", 15), owed("C1", "20.00", 16), owed("C1", "40.00", 46)],
        AS_OF,
        (15, 45),
    )
    assert rows[0].buckets == (Decimal("10.00"), Decimal("20.00"), Decimal("40.00"))


def test_the_total_row_adds_up_the_customers() -> None:
    """The company total is the sum of every customer's cells, customer by customer."""
    rows = aged_balance(
        [owed("C2", "70.00", 45), owed("C1", "30.00", 0), owed("C1", "-5.00", None)],
        AS_OF,
        (30, 60, 90),
    )
    assert [r.customer for r in rows] == ["C1", "C2"]
    t = total(rows, (30, 60, 90))
    assert (t.not_due, t.buckets[1], t.unapplied, t.total) == (
        Decimal("30.00"),
        Decimal("70.00"),
        Decimal("-5.00"),
        Decimal("95.00"),
    )
