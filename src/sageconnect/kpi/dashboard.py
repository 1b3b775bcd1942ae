"""Every KPI of one company on one day, from the facts read (kpi/gather.py). Pure."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sageconnect.credit.settings import Policy
from sageconnect.kpi.activity import StepActivity, activity
from sageconnect.kpi.aging import AgedRow, Owed, aged_balance, total
from sageconnect.kpi.forecast import Forecast, Promise, Receivable, forecast
from sageconnect.kpi.gather import CREDITS, Facts
from sageconnect.kpi.priority import Call, Debtor, priority
from sageconnect.kpi.ratios import Ratios, ratios
from sageconnect.kpi.settings import ReportsConfig
from sageconnect.store.open_items import OpenItem

ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True, kw_only=True)
class Dashboard:
    as_of: dt.date
    bounds: tuple[int, ...]
    aged: list[AgedRow]
    aged_total: AgedRow
    ratios: Ratios
    forecast: Forecast
    priority: list[Call]
    activity: list[StepActivity]


def dashboard(
    facts: Facts, settings: ReportsConfig, policy: Policy | None
) -> Dashboard:
    """The aged balance, ratios, forecast, priority list and dunning activity."""
    as_of, bounds = facts.as_of, settings.buckets
    aged = aged_balance(
        (
            Owed(
                customer=i.customer,
                name=i.customer_name,
                open=i.open,
                due=i.due,
                issued=i.issued,
            )
            for i in facts.items
        ),
        as_of,
        bounds,
    )
    owed = [i for i in facts.items if i.open > 0 and i.kind not in CREDITS]
    lags = {code: s.avg_days_late for code, s in facts.scores.items()}
    figures = ratios(facts.ledger)
    return Dashboard(
        as_of=as_of,
        bounds=bounds,
        aged=aged,
        aged_total=total(aged, bounds),
        ratios=figures,
        forecast=forecast(
            (
                Receivable(
                    customer=i.customer,
                    key=i.key,
                    due=i.due or i.issued,
                    amount=i.to_chase,
                    disputed=i.key in facts.pauses.disputed,
                )
                for i in owed
            ),
            [
                Promise(customer=c, invoices=k, until=u, amount=a)
                for c, k, u, a in facts.pauses.promises
            ],
            lags,
            as_of,
            weeks=settings.forecast_weeks,
            default_lag=settings.default_lag_days,
            doubtful_after=settings.doubtful_after_days,
        ),
        priority=priority(
            debtors(facts, owed, policy),
            as_of,
            deadline_days=settings.deadline_days,
            size=settings.priority_size,
        ),
        activity=activity(
            facts.reminded,
            facts.ledger.open_end,
            figures.period_start,
            as_of,
        ),
    )


def debtors(facts: Facts, owed: list[OpenItem], policy: Policy | None) -> list[Debtor]:
    """One Debtor per customer with chaseable money overdue."""
    as_of, p = facts.as_of, facts.pauses
    promised = {
        (c, key)
        for c, keys, until, _ in p.promises
        if until >= as_of
        for key in keys or (None,)
    }
    grouped: dict[str, list[OpenItem]] = {}
    for i in owed:
        late = i.due is not None and i.due < as_of and i.to_chase > 0
        paused = (
            i.key in p.disputed
            or i.key in p.held
            or {(i.customer, i.key), (i.customer, None)} & promised
        )
        if late and not paused:
            grouped.setdefault(i.customer, []).append(i)
    out = []
    for code, items in sorted(grouped.items()):
        oldest = min(items, key=lambda i: (i.due, i.number))
        deadline, invoice = None, ""
        if policy is not None and code in facts.insured:
            deadline, invoice = min(
                (policy.declaration_deadline(i.due or i.issued), i.number)
                for i in items
            )
        score = facts.scores.get(code)
        out.append(
            Debtor(
                customer=code,
                name=items[0].customer_name,
                overdue=sum((i.to_chase for i in items), ZERO),
                invoices=len(items),
                oldest_days=oldest.days_overdue,
                grade=score.grade if score else None,
                deadline=deadline,
                deadline_invoice=invoice,
                insurer=facts.insured.get(code, ""),
                on_hold=code in p.on_hold,
                broken_promise=code in p.broken,
            )
        )
    return out
