"""Which credit alerts hold on a given day. Pure: data and a date in, states out.

An alert is a state with a level: it is raised once when it first holds,
escalates once each time its level rises, and clears when its cause goes away
(the ledger of alerts turns states into notifications: see credit/ledger.py).

Kinds, their levels from mild to severe, and what triggers them:

- ``exposure``: open receivables of an insured customer >= ``warning_share`` of
  the insured limit (``warning``), above it (``over``);
- ``credit_limit``: open receivables above the customer's own credit limit
  (Sage ``CT_Encours``) (``over``);
- ``uninsured``: no cover (none, refused, cancelled, zero) and open receivables
  above ``uninsured_threshold`` (``warning``), or above the policy's
  non-named-buyer threshold (``over``);
- ``limit_expiry``: the cover ends within ``limit_expiry_days`` (``soon``), has
  ended while money is owed (``expired``);
- ``limit_change``: the current decision reduced (``reduced``), refused or
  cancelled (``cancelled``) the limit before it;
- ``declaration``: an overdue invoice of an insured customer, against the
  policy's deadline to declare it (due date, or end of the extension period,
  + ``declaration_days``): ``d<N>`` for each of ``warn_days``, ``today``, ``late``;
- ``stop_delivery``: the oldest unpaid invoice of an insured customer is
  ``stop_delivery_days`` late: new deliveries are not covered (``stop``), a week
  before (``soon``);
- ``terms``: an invoice of an insured customer with payment terms beyond the
  policy's maximum (``beyond_policy``);
- ``dispute``: a disputed invoice of an insured customer: the cover is suspended
  (``suspended``);
- ``prescription``: an unpaid invoice nearing the 5-year limit from its due date
  (``soon``), past it (``prescribed``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from sageconnect.credit.settings import CreditConfig, Policy

ZERO = Decimal("0.00")
PRESCRIPTION_YEARS = 5
STOP_WARNING = dt.timedelta(days=7)
NO_COVER = ("refused", "cancelled")


@dataclass(frozen=True, slots=True, kw_only=True)
class Cover:
    """An insurer's decision on one customer (the current one, or the one before)."""

    insurer: str
    limit: Decimal
    # approved | partial | provisional | reduced | refused | cancelled
    decision: str = "approved"
    reference: str = ""
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None

    def covers(self, day: dt.date) -> bool:
        if self.decision in NO_COVER or self.limit <= 0:
            return False
        if self.valid_from is not None and day < self.valid_from:
            return False
        return self.valid_until is None or day <= self.valid_until


@dataclass(frozen=True, slots=True, kw_only=True)
class Buyer:
    """A customer's exposure and limits."""

    code: str
    name: str
    exposure: Decimal  # open receivables (>= 0)
    credit_limit: Decimal | None = None
    cover: Cover | None = None
    previous: Cover | None = None  # the decision before ``cover``, if any


@dataclass(frozen=True, slots=True, kw_only=True)
class Invoice:
    customer: str
    key: str
    number: str
    issued: dt.date
    due: dt.date
    open: Decimal
    disputed: bool = False


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert state: ``key`` names what it is about, ``level`` how bad it is."""

    key: str
    kind: str
    customer: str
    subject: str  # an invoice number, a cover reference, or ""
    level: str
    rank: int  # higher is worse: escalation means a higher rank
    message: str
    facts: dict[str, str] = field(default_factory=dict)


def evaluate(
    *,
    buyers: Iterable[Buyer],
    invoices: Iterable[Invoice],
    policy: Policy | None,
    settings: CreditConfig,
    as_of: dt.date,
) -> list[Alert]:
    """Every alert that holds on ``as_of``, in a stable order."""
    owed: dict[str, list[Invoice]] = {}
    for invoice in invoices:
        if invoice.open > 0:
            owed.setdefault(invoice.customer, []).append(invoice)
    out: list[Alert] = []
    for buyer in sorted(buyers, key=lambda b: b.code):
        mine = sorted(owed.get(buyer.code, []), key=lambda i: (i.due, i.number))
        check = _Buyer(buyer, mine, policy, settings, as_of)
        out += check.limits()
        out += check.insurance()
        out += check.prescription()
    return out


@dataclass(slots=True)
class _Buyer:
    buyer: Buyer
    invoices: list[Invoice]
    policy: Policy | None
    settings: CreditConfig
    as_of: dt.date

    def alert(
        self,
        kind: str,
        level: str,
        rank: int,
        message: str,
        *,
        subject: str = "",
        **facts: object,
    ) -> Alert:
        b = self.buyer
        key = f"{kind}:{b.code}:{subject}"
        text = {k: str(v) for k, v in facts.items() if v is not None}
        return Alert(key, kind, b.code, subject, level, rank, message, text)

    @property
    def insured(self) -> bool:
        cover = self.buyer.cover
        return cover is not None and cover.covers(self.as_of)

    def limits(self) -> list[Alert]:
        b, out = self.buyer, []
        if (
            b.credit_limit is not None
            and b.credit_limit > 0
            and b.exposure > b.credit_limit
        ):
            out.append(
                self.alert(
                    "credit_limit",
                    "over",
                    2,
                    f"{b.name}: {b.exposure} owed, over the credit limit"
                    f" of {b.credit_limit}",
                    exposure=b.exposure,
                    limit=b.credit_limit,
                    excess=b.exposure - b.credit_limit,
                )
            )
        return out

    def insurance(self) -> list[Alert]:
        out: list[Alert] = []
        out += self._exposure()
        out += self._uninsured()
        out += self._expiry()
        out += self._change()
        if self.insured and self.policy is not None:
            out += self._declarations(self.policy)
            out += self._stop(self.policy)
            out += self._terms_and_disputes(self.policy)
        return out

    def _exposure(self) -> list[Alert]:
        b, cover = self.buyer, self.buyer.cover
        if cover is None or not self.insured:
            return []
        share = self.settings.warning_share
        if b.exposure > cover.limit:
            level, rank = "over", 2
            text = (
                f"{b.name}: {b.exposure} owed, over the insured limit of {cover.limit}"
            )
        elif b.exposure >= cover.limit * share:
            level, rank = "warning", 1
            text = (
                f"{b.name}: {b.exposure} owed, {_percent(b.exposure, cover.limit)}"
                f" of the insured limit of {cover.limit}"
            )
        else:
            return []
        return [
            self.alert(
                "exposure",
                level,
                rank,
                text,
                exposure=b.exposure,
                limit=cover.limit,
                uncovered=max(b.exposure - cover.limit, ZERO),
                insurer=cover.insurer,
            )
        ]

    def _uninsured(self) -> list[Alert]:
        b = self.buyer
        if self.insured or b.exposure <= 0:
            return []
        non_denomme = self.policy.non_denomme if self.policy else ZERO
        threshold = self.settings.uninsured_threshold
        why = "no cover" if b.cover is None else f"cover {b.cover.decision}"
        if non_denomme > 0 and b.exposure > non_denomme:
            text = (
                f"{b.name}: {b.exposure} owed with {why}, above the"
                f" {non_denomme} covered without a named limit"
            )
            level, rank = "over", 2
        elif threshold is not None and b.exposure > threshold:
            text = f"{b.name}: {b.exposure} owed with {why}"
            level, rank = "warning", 1
        else:
            return []
        return [self.alert("uninsured", level, rank, text, exposure=b.exposure)]

    def _expiry(self) -> list[Alert]:
        b, cover = self.buyer, self.buyer.cover
        if cover is None or cover.valid_until is None or cover.decision in NO_COVER:
            return []
        left = (cover.valid_until - self.as_of).days
        if left < 0 and b.exposure > 0:
            level, rank = "expired", 2
            text = f"{b.name}: the insured limit ended on {cover.valid_until}"
        elif 0 <= left <= self.settings.limit_expiry_days:
            level, rank = "soon", 1
            text = (
                f"{b.name}: the insured limit ends on {cover.valid_until} ({left} days)"
            )
        else:
            return []
        return [
            self.alert(
                "limit_expiry",
                level,
                rank,
                text,
                subject=cover.reference,
                until=cover.valid_until,
                limit=cover.limit,
            )
        ]

    def _change(self) -> list[Alert]:
        b, cover, before = self.buyer, self.buyer.cover, self.buyer.previous
        if cover is None or before is None:
            return []
        if cover.decision in NO_COVER or cover.limit <= 0:
            level, rank = "cancelled", 2
            text = (
                f"{b.name}: the insurer {cover.decision} the limit (was {before.limit})"
            )
        elif cover.limit < before.limit:
            level, rank = "reduced", 1
            text = (
                f"{b.name}: the insured limit was reduced"
                f" from {before.limit} to {cover.limit}"
            )
        else:
            return []
        return [
            self.alert(
                "limit_change",
                level,
                rank,
                text,
                subject=cover.reference or str(cover.valid_from or ""),
                before=before.limit,
                after=cover.limit,
                effective=cover.valid_from,
                exposure=b.exposure,
            )
        ]

    def _declarations(self, policy: Policy) -> list[Alert]:
        out = []
        name = self.buyer.name
        insurer = self.buyer.cover.insurer if self.buyer.cover else "the insurer"
        for invoice in self.invoices:
            if invoice.due >= self.as_of:
                continue
            deadline = policy.declaration_deadline(invoice.due)
            left = (deadline - self.as_of).days
            level, rank = _countdown(left, policy.warn_days)
            if level is None:
                continue
            when = (
                "today"
                if left == 0
                else (f"in {left} days" if left > 0 else f"{-left} days ago")
            )
            out.append(
                self.alert(
                    "declaration",
                    level,
                    rank,
                    f"{name}: invoice {invoice.number} ({invoice.open} overdue"
                    f" since {invoice.due}) must be declared to {insurer}"
                    f" by {deadline}: {when}",
                    subject=invoice.number,
                    deadline=deadline,
                    due=invoice.due,
                    open=invoice.open,
                )
            )
        return out

    def _stop(self, policy: Policy) -> list[Alert]:
        if policy.stop_delivery_days is None or not self.invoices:
            return []
        oldest = min(self.invoices, key=lambda i: i.due)
        name = self.buyer.name
        stop = oldest.due + dt.timedelta(days=policy.stop_delivery_days)
        if self.as_of >= stop:
            level, rank = "stop", 2
            text = f"{name}: stop deliveries since {stop} ({oldest.number} unpaid)"
        elif self.as_of >= stop - STOP_WARNING:
            level, rank = "soon", 1
            text = f"{name}: deliveries stop on {stop} unless {oldest.number} is paid"
        else:
            return []
        return [
            self.alert(
                "stop_delivery", level, rank, text, date=stop, invoice=oldest.number
            )
        ]

    def _terms_and_disputes(self, policy: Policy) -> list[Alert]:
        out = []
        name = self.buyer.name
        for invoice in self.invoices:
            days = (invoice.due - invoice.issued).days
            if days > policy.max_credit_days:
                out.append(
                    self.alert(
                        "terms",
                        "beyond_policy",
                        1,
                        f"{name}: invoice {invoice.number} is payable in {days}"
                        f" days, beyond the policy's {policy.max_credit_days}:"
                        " not insured",
                        subject=invoice.number,
                        days=days,
                    )
                )
            if invoice.disputed and policy.dispute_suspends_cover:
                out.append(
                    self.alert(
                        "dispute",
                        "suspended",
                        1,
                        f"{name}: invoice {invoice.number} is disputed: its"
                        " cover is suspended until the amount is agreed",
                        subject=invoice.number,
                        open=invoice.open,
                    )
                )
        return out

    def prescription(self) -> list[Alert]:
        out = []
        name = self.buyer.name
        warn = dt.timedelta(days=self.settings.prescription_warning_days)
        for invoice in self.invoices:
            limit = _add_years(invoice.due, PRESCRIPTION_YEARS)
            if self.as_of > limit:
                level, rank = "prescribed", 2
                text = f"{name}: invoice {invoice.number} is time-barred since {limit}"
            elif self.as_of >= limit - warn:
                level, rank = "soon", 1
                text = (
                    f"{name}: invoice {invoice.number} is time-barred on {limit} unless"
                    " acknowledged or claimed in court (a reminder does not stop it)"
                )
            else:
                continue
            out.append(
                self.alert(
                    "prescription",
                    level,
                    rank,
                    text,
                    subject=invoice.number,
                    limit=limit,
                    open=invoice.open,
                )
            )
        return out


def _countdown(left: int, warn_days: tuple[int, ...]) -> tuple[str | None, int]:
    """The declaration level ``left`` days before the deadline (negative: after)."""
    if left < 0:
        return "late", len(warn_days) + 2
    if left == 0:
        return "today", len(warn_days) + 1
    for rank, days in enumerate(sorted(warn_days), start=0):
        if left <= days:
            return f"d{days}", len(warn_days) - rank
    return None, 0


def _percent(part: Decimal, whole: Decimal) -> str:
    return f"{(part * 100 / whole).quantize(Decimal(1))} %" if whole else "-"


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)
