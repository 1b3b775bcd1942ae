"""Dunning activity: reminders per step and channel, and what was paid after each."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sageconnect.kpi.activity import Reminded, activity

AS_OF = dt.date(2026, 11, 24)


def sent(key: str, step: str, day: int, invoice: str, open_: str) -> Reminded:
    return Reminded(
        reminder=key,
        step=step,
        channel="email",
        on=dt.date(2026, 11, day),
        invoice=invoice,
        open=Decimal(open_),
    )


def test_payment_is_credited_to_the_last_step_the_invoice_received() -> None:
    """I1 paid after step 2, I2 paid 300 of 500 after step 1: 20 % and 100 %."""
    items = [
        sent("k1", "step1", 2, "I1", "1000.00"),
        sent("k2", "step1", 3, "I2", "500.00"),
        sent("k3", "step2", 12, "I1", "1000.00"),
        sent("k0", "step1", 1, "OLD", "70.00"),  # before the window
    ]
    open_now = {"I2": Decimal("200.00")}
    rows = activity(items, open_now, dt.date(2026, 11, 2), AS_OF)
    assert [
        (r.step, r.messages, r.invoices, r.reminded, r.paid_after, r.paid_share)
        for r in rows
    ] == [
        ("step1", 2, 2, Decimal("1500.00"), Decimal("300.00"), Decimal("20.0")),
        ("step2", 1, 1, Decimal("1000.00"), Decimal("1000.00"), Decimal("100.0")),
    ]
