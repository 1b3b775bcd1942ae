"""DSO, best possible DSO, ADD, CEI, overdue share and recovery on a hand-computed
quarter: sales of 30 000 in January, 20 000 in February, 10 000 in March 2026."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sageconnect.kpi.ratios import Ledger, months_back, period_months, ratios

AS_OF = dt.date(2026, 3, 31)
SALES = (
    (dt.date(2026, 1, 10), Decimal("30000.00")),
    (dt.date(2026, 2, 10), Decimal("21000.00")),
    (dt.date(2026, 2, 20), Decimal("-1000.00")),  # a credit note
    (dt.date(2026, 3, 10), Decimal("10000.00")),
)


def ledger(**changes: object) -> Ledger:
    values: dict[str, object] = {
        "as_of": AS_OF,
        "months": 3,
        "sales": SALES,
        "receivable_start": Decimal("18000.00"),
        "receivable_end": Decimal("25000.00"),
        "open_invoices_end": Decimal("26000.00"),
        "not_due_end": Decimal("8000.00"),
        "overdue_start": {"A": Decimal("5000.00"), "B": Decimal("3000.00")},
        "open_end": {"B": Decimal("1000.00"), "Z": Decimal("25000.00")},
    }
    values.update(changes)
    return Ledger(**values)  # type: ignore[arg-type]


def test_the_period_is_whole_calendar_months_ending_on_the_day() -> None:
    """Three months to 31 March are January, February and March: 90 days."""
    assert months_back(dt.date(2026, 3, 31), 1) == dt.date(2026, 2, 28)
    assert months_back(dt.date(2028, 3, 31), 1) == dt.date(2028, 2, 29)
    assert period_months(AS_OF, 3) == [
        (dt.date(2026, 3, 1), dt.date(2026, 3, 31)),
        (dt.date(2026, 2, 1), dt.date(2026, 2, 28)),
        (dt.date(2026, 1, 1), dt.date(2026, 1, 31)),
    ]
    r = ratios(ledger())
    assert (r.period_start, r.days, r.sales) == (
        dt.date(2026, 1, 1),
        90,
        Decimal("60000.00"),
    )


def test_simple_dso_is_receivables_over_sales_times_days() -> None:
    """25 000 / 60 000 × 90 = 37.5 days."""
    assert ratios(ledger()).dso_simple == Decimal("37.5")


def test_countback_dso_walks_back_month_by_month() -> None:
    """March's 10 000 is covered (31 days), then 15 000 of February's 20 000: 21 days."""
    assert ratios(ledger()).dso_countback == Decimal("52.0")


def test_countback_beyond_the_period_uses_the_average_daily_sales() -> None:
    """70 000 covers the 90 days' 60 000, and 10 000 more at 666.67 a day is 15 days."""
    r = ratios(ledger(receivable_end=Decimal("70000.00")))
    assert r.dso_countback == Decimal("105.0")


def test_best_dso_and_average_days_delinquent() -> None:
    """Best DSO = 8 000 / 60 000 × 90 = 12; ADD = 37.5 - 12 = 25.5 days."""
    r = ratios(ledger())
    assert (r.best_dso, r.add) == (Decimal("12.0"), Decimal("25.5"))


def test_collection_effectiveness_index() -> None:
    """CEI = (18 000 + 60 000 - 25 000) / (18 000 + 60 000 - 8 000) = 75.7 %."""
    assert ratios(ledger()).cei == Decimal("75.7")


def test_overdue_share_of_open_invoices() -> None:
    """18 000 overdue of 26 000 open invoices is 69.2 %."""
    r = ratios(ledger())
    assert (r.overdue, r.overdue_share) == (Decimal("18000.00"), Decimal("69.2"))


def test_recovery_rate_of_what_was_overdue_on_day_one() -> None:
    """A (5 000) paid in full and 2 000 of B's 3 000: 7 000 / 8 000 = 87.5 %."""
    assert ratios(ledger()).recovery_rate == Decimal("87.5")


def test_ratios_without_sales_are_none() -> None:
    """No sales in the period: no DSO to speak of, rather than a division by zero."""
    r = ratios(ledger(sales=()))
    assert (r.dso_simple, r.dso_countback, r.best_dso, r.add) == (None,) * 4
