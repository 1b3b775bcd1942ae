"""DSO, best possible DSO, average days delinquent, CEI, overdue share, recovery.

Pure: ledger figures and a period in, ratios out. The period is the last
``months`` calendar months ending on ``as_of``: month 1 runs from the day after
``as_of`` one month earlier to ``as_of``, month 2 the month before, and so on
(a 31 March period of 3 months covers 1 January - 31 March, 90 days).

Definitions (``AR`` is the receivable balance: open invoices less unapplied
credits; ``sales`` the invoices less credit notes issued in the period, opening
balances and adjustments excluded; ``days`` the period's length):

- **DSO, simple ratio** = ``AR_end / sales × days``;
- **DSO, count-back** (LeanPay, Upflow): start from ``AR_end`` and walk back
  month by month; a month whose sales the balance still covers adds all its
  days and its sales are taken off; the first month it no longer covers adds
  ``remaining / sales_of_that_month × its days``; past the period, what is left
  is counted at the period's average daily sales. It follows the sales pattern,
  so a big month just billed does not inflate it as the ratio does;
- **best possible DSO** = ``not_due_end / sales × days``: the DSO if everyone
  paid on the due date;
- **average days delinquent (ADD)** = ``DSO (simple) - best possible DSO``;
- **collection effectiveness index (CEI)** =
  ``(AR_start + sales - AR_end) / (AR_start + sales - not_due_end) × 100``: the
  share of what could be collected in the period that was;
- **overdue share** = ``overdue_end / open invoices_end × 100``;
- **recovery rate** = of the amounts overdue on the period's first day, the
  share settled (by payment or credit) by ``as_of``, × 100.

Days are rounded to the tenth, percentages to the tenth, half up. A ratio whose
denominator is zero or negative is None (nothing to measure).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal("0.00")
TENTH = Decimal("0.1")
HUNDRED = Decimal(100)


def months_back(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` months earlier (the month's last day if shorter)."""
    total = day.year * 12 + day.month - 1 - months
    year, month = divmod(total, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def period_months(as_of: dt.date, months: int) -> list[tuple[dt.date, dt.date]]:
    """The period's months, latest first, each as (first day, last day)."""
    out = []
    end = as_of
    for n in range(1, months + 1):
        start = months_back(as_of, n) + dt.timedelta(days=1)
        out.append((start, end))
        end = start - dt.timedelta(days=1)
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class Ledger:
    """The figures the ratios need, read for one company and one period."""

    as_of: dt.date
    months: int
    sales: tuple[tuple[dt.date, Decimal], ...]  # (issued, net amount) in the period
    receivable_start: Decimal  # AR at the end of the day before the period
    receivable_end: Decimal  # AR at the end of as_of
    open_invoices_end: Decimal  # what is owed (open > 0) on as_of
    not_due_end: Decimal  # of which not due yet
    overdue_start: Mapping[str, Decimal]  # invoice key -> open, overdue on day 1
    open_end: Mapping[str, Decimal]  # invoice key -> open on as_of


@dataclass(frozen=True, slots=True, kw_only=True)
class Ratios:
    """The period's ratios; see the module's docstring for each formula."""

    period_start: dt.date
    period_end: dt.date
    days: int
    sales: Decimal
    receivable: Decimal
    not_due: Decimal
    overdue: Decimal
    dso_countback: Decimal | None
    dso_simple: Decimal | None
    best_dso: Decimal | None
    add: Decimal | None
    cei: Decimal | None
    overdue_share: Decimal | None
    recovery_rate: Decimal | None


def ratios(ledger: Ledger) -> Ratios:
    """Every ratio of ``ledger``'s period."""
    months = period_months(ledger.as_of, ledger.months)
    start, days = months[-1][0], (ledger.as_of - months[-1][0]).days + 1
    per_month = [_sales_in(ledger.sales, a, b) for a, b in months]
    sales = sum(per_month, ZERO)
    ar, not_due = ledger.receivable_end, ledger.not_due_end
    overdue = ledger.open_invoices_end - not_due
    simple = _ratio(ar * days, sales)
    best = _ratio(not_due * days, sales)
    collectable = ledger.receivable_start + sales - not_due
    return Ratios(
        period_start=start,
        period_end=ledger.as_of,
        days=days,
        sales=sales,
        receivable=ar,
        not_due=not_due,
        overdue=overdue,
        dso_countback=countback(ar, months, per_month, sales, days),
        dso_simple=simple,
        best_dso=best,
        add=None if simple is None or best is None else simple - best,
        cei=_ratio((ledger.receivable_start + sales - ar) * HUNDRED, collectable),
        overdue_share=_ratio(overdue * HUNDRED, ledger.open_invoices_end),
        recovery_rate=recovery(ledger.overdue_start, ledger.open_end),
    )


def countback(
    receivable: Decimal,
    months: list[tuple[dt.date, dt.date]],
    per_month: list[Decimal],
    sales: Decimal,
    days: int,
) -> Decimal | None:
    """The count-back DSO (module docstring); None without sales in the period."""
    if sales <= 0:
        return None
    left, dso = receivable, Decimal(0)
    for (first, last), billed in zip(months, per_month, strict=True):
        if left <= 0:
            break
        length = (last - first).days + 1
        if billed > 0 and left < billed:
            dso += left / billed * length
            left = ZERO
            break
        dso += length
        left -= max(billed, ZERO)
    if left > 0:
        dso += left / (sales / days)
    return _round(dso)


def recovery(
    overdue_start: Mapping[str, Decimal], open_end: Mapping[str, Decimal]
) -> Decimal | None:
    """The share of what was overdue on day 1 that is settled by the end."""
    owed = sum((v for v in overdue_start.values() if v > 0), ZERO)
    settled = sum(
        (
            max(ZERO, min(v, v - max(open_end.get(key, ZERO), ZERO)))
            for key, v in overdue_start.items()
            if v > 0
        ),
        ZERO,
    )
    return _ratio(settled * HUNDRED, owed)


def _sales_in(
    sales: Iterable[tuple[dt.date, Decimal]], first: dt.date, last: dt.date
) -> Decimal:
    return sum((amount for day, amount in sales if first <= day <= last), ZERO)


def _ratio(numerator: Decimal, denominator: Decimal) -> Decimal | None:
    return _round(numerator / denominator) if denominator > 0 else None


def _round(value: Decimal) -> Decimal:
    return value.quantize(TENTH, rounding=ROUND_HALF_UP)
