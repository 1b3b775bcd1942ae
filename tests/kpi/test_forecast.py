"""The 13-week cash forecast on hand-placed invoices, promises and payer lags.

As of Wednesday 25 November 2026: week 1 is 23-29 November, week 2 30 November -
6 December, week 3 7-13 December, week 4 14-20 December.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sageconnect.kpi.forecast import Promise, Receivable, forecast

AS_OF = dt.date(2026, 11, 25)
D = Decimal


def item(customer: str, key: str, due: str, amount: str, **kw: bool) -> Receivable:
    return Receivable(
        customer=customer,
        key=key,
        due=dt.date.fromisoformat(due),
        amount=D(amount),
        **kw,
    )


ITEMS = [
    item("A", "A1", "2026-11-30", "1000.00"),  # lag 10.4 -> 10 days: 10 Dec, week 3
    item("B", "B1", "2026-11-20", "400.00"),  # no history, passed: now, week 1
    item("B", "B2", "2026-07-01", "250.00"),  # 147 days overdue: doubtful
    item("C", "C1", "2026-12-20", "500.00"),  # 300 promised for 2 Dec, 200 on 20 Dec
    item("D", "D1", "2026-12-01", "700.00", disputed=True),
    item("E", "E1", "2026-10-01", "100.00"),  # whole customer promised for 15 Dec
    item("E", "E2", "2027-01-10", "50.00"),
    item("F", "F1", "2027-06-01", "900.00"),  # after week 13
    item("G", "G1", "2026-11-26", "80.00"),  # lag 3.5 -> 4 days: 30 Nov, week 2
]
PROMISES = [
    Promise(
        customer="C", invoices=("C1",), until=dt.date(2026, 12, 2), amount=D("300")
    ),
    Promise(customer="E", until=dt.date(2026, 12, 15)),
]
LAGS = {"A": D("10.4"), "B": None, "G": D("3.5")}


def test_each_amount_is_expected_in_its_week() -> None:
    """Due date + habitual lag, promises on their day, late ones now."""
    f = forecast(ITEMS, PROMISES, LAGS, AS_OF)
    weeks = {w.number: (w.habit, w.promised) for w in f.weeks}
    assert weeks[1] == (D("400.00"), D("0.00"))
    assert weeks[2] == (D("80.00"), D("300.00"))
    assert weeks[3] == (D("1000.00"), D("0.00"))
    assert weeks[4] == (D("200.00"), D("150.00"))
    assert all(w.total == 0 for w in f.weeks[4:])
    assert (f.weeks[0].start, f.weeks[0].end) == (
        dt.date(2026, 11, 23),
        dt.date(2026, 11, 29),
    )


def test_weeks_later_doubtful_and_disputed_add_up_to_what_is_owed() -> None:
    """2 130 in the 13 weeks, 900 later, 250 doubtful, 700 disputed: the 3 980 owed."""
    f = forecast(ITEMS, PROMISES, LAGS, AS_OF)
    assert len(f.weeks) == 13
    assert f.weeks[-1].cumulative == D("2130.00")
    assert (f.later, f.doubtful, f.disputed) == (D("900.00"), D("250.00"), D("700.00"))
    total = f.weeks[-1].cumulative + f.later + f.doubtful + f.disputed
    assert total == sum((i.amount for i in ITEMS), D("0.00"))


def test_a_customer_promise_with_an_amount_takes_the_oldest_first() -> None:
    """120 promised: all of H1 (oldest) and 20 of H2; H2's other 80 is late: now."""
    items = [
        item("H", "H1", "2026-11-01", "100.00"),
        item("H", "H2", "2026-11-10", "100.00"),
    ]
    promise = Promise(customer="H", until=dt.date(2026, 12, 9), amount=D("120"))
    f = forecast(items, [promise], {}, AS_OF)
    assert (f.weeks[0].habit, f.weeks[2].promised) == (D("80.00"), D("120.00"))


def test_the_default_lag_applies_to_payers_without_history() -> None:
    """With default_lag 14, B's invoice due 30 November is expected 14 December."""
    f = forecast(
        [item("B", "B9", "2026-11-30", "10.00")], [], {}, AS_OF, default_lag=14
    )
    assert f.weeks[3].habit == D("10.00")
