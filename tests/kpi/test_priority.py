"""The call list: insurer deadlines first, then money at stake weighted by age and grade."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sageconnect.kpi.priority import Debtor, priority

AS_OF = dt.date(2026, 11, 24)


def debtor(
    code: str, overdue: str, oldest: int, grade: str | None, **kw: object
) -> Debtor:
    return Debtor(
        customer=code,
        name=f"Client {code}",
        overdue=Decimal(overdue),
        invoices=2,
        oldest_days=oldest,
        grade=grade,
        **kw,  # type: ignore[arg-type]
    )


DEBTORS = [
    debtor("P1", "10000.00", 30, "A"),  # 10 000 × 2 × 1 = 20 000
    debtor("P2", "3000.00", 60, "D"),  # 3 000 × 3 × 3 = 27 000
    debtor(
        "P3",
        "1000.00",
        15,
        None,
        deadline=dt.date(2026, 11, 30),
        deadline_invoice="F-9",
        insurer="Allianz Trade",
    ),  # a deadline in 6 days: first
    debtor("P4", "50000.00", 200, "D", on_hold=True),  # on hold: not called
    debtor("P5", "2000.00", 45, "C", broken_promise=True),  # 2 000 × 2.5 × 2 × 1.5
    debtor("P6", "100.00", 0, "B", deadline=dt.date(2027, 1, 30)),  # deadline far off
]


def test_the_order_puts_deadlines_first_then_points() -> None:
    """P3 (deadline in 6 days), then P2 27 000, P1 20 000, P5 15 000, P6 150 points."""
    calls = priority(DEBTORS, AS_OF, deadline_days=14, size=20)
    assert [(c.rank, c.customer, c.points) for c in calls] == [
        (1, "P3", Decimal(2250)),
        (2, "P2", Decimal(27000)),
        (3, "P1", Decimal(20000)),
        (4, "P5", Decimal(15000)),
        (5, "P6", Decimal(150)),
    ]


def test_each_call_says_why() -> None:
    """The reason names the deadline, the amount, the age, the grade, a broken promise."""
    calls = {c.customer: c for c in priority(DEBTORS, AS_OF, deadline_days=14, size=20)}
    assert calls["P3"].reason == (
        "déclaration à Allianz Trade de F-9 : dans 6 j ; "
        "1\u202f000,00 € en retard (2 factures) ; plus ancienne : 15 j"
    )
    assert calls["P5"].reason.endswith("payeur C ; promesse non tenue")


def test_the_list_is_cut_at_its_size() -> None:
    """size=2 keeps the first two."""
    assert [c.customer for c in priority(DEBTORS, AS_OF, deadline_days=14, size=2)] == [
        "P3",
        "P2",
    ]
