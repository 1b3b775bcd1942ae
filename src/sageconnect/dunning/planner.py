"""The dunning planner: from open items, history, pauses, scenarios and a date, the
reminders due today, and why every other open item gets none. Pure: no store,
no clock, no network; the same inputs always give the same plan and keys.

Each open invoice reaches, on a given day, the highest step of its customer's
scenario whose trigger has passed (``days`` from the due date, or
``after_previous`` days after the previous step went out for it). A step is
sent once per invoice and channel; after downtime only the step reached now
goes out, never every step missed. One message per customer and channel lists
all its overdue items, worded at the highest step reached.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from operator import attrgetter
from typing import NamedTuple

from sageconnect.dunning.interest import Rates, interest
from sageconnect.dunning.message import Line, Notice, Recipient, Sender
from sageconnect.dunning.settings import DunningConfig, Scenario, Step

ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True, kw_only=True)
class Debtor:
    """A customer as the planner sees it."""

    id: int
    code: str
    name: str
    language: str = "fr"
    category: str = ""
    consumer: bool = False
    excluded: bool = False  # the source's never-dun flag
    risk: str = ""  # payer grade A-D (credit/scoring.py), "" when not scored
    contact_name: str = ""
    email: str = ""
    phone: str = ""
    address: tuple[str, ...] = ()


class Item(NamedTuple):
    """An open invoice; ``to_chase``: what is open and not yet paid at the bank.

    A named tuple, as ``Done``: a million of them are read for one plan, and a
    tuple is made in a fifth of a frozen dataclass's time (bench/plan_store.py).
    """

    invoice_id: int
    key: str
    customer: str
    number: str
    issued: dt.date
    due: dt.date
    amount: Decimal
    open: Decimal
    to_chase: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class Pause:
    kind: str  # dispute | promise | hold
    customer: str
    invoice_id: int | None  # None: every invoice of the customer
    until: dt.date | None
    reason: str

    def active(self, day: dt.date) -> bool:
        return self.until is None or self.until >= day


class Done(NamedTuple):
    """A step that went out (or may have: claimed, uncertain) for an invoice."""

    invoice_id: int
    step: str
    channel: str
    on: dt.date


@dataclass(frozen=True, slots=True, kw_only=True)
class Planned:
    notice: Notice
    customer_id: int
    recipient: Recipient
    triggers: tuple[tuple[int, str], ...]  # (invoice id, step) this message sends
    opens: tuple[Decimal, ...] = ()  # what each trigger's invoice had open
    registered: bool = False


@dataclass(frozen=True, slots=True)
class Skipped:
    customer: str
    invoice: str  # the invoice number, "" for the whole customer
    reason: str


@dataclass(slots=True)
class Plan:
    reminders: list[Planned] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


@dataclass(frozen=True, slots=True, kw_only=True)
class Company:
    code: str
    sender: Sender
    currency: str = "EUR"


def plan(
    *,
    company: Company,
    debtors: Iterable[Debtor],
    items: Iterable[Item],
    pauses: Iterable[Pause],
    done: Iterable[Done],
    settings: DunningConfig,
    rates: Rates,
    as_of: dt.date,
) -> Plan:
    """The reminders due on ``as_of``, and why each other open item has none."""
    by_customer: dict[str, list[Item]] = defaultdict(list)
    for item in items:
        by_customer[item.customer].append(item)
    paused: dict[str, list[Pause]] = defaultdict(list)
    for pause in pauses:
        if pause.active(as_of):
            paused[pause.customer].append(pause)
    history: dict[int, list[Done]] = defaultdict(list)
    for d in done:
        history[d.invoice_id].append(d)
    result = Plan()
    context = _Context(company, settings, rates, as_of, history)
    for debtor in sorted(debtors, key=_CODE):
        owed = by_customer.get(debtor.code)
        if owed:
            # by (due, number, key); by due alone when no two share a due date
            unique = len(set(map(_DUE, owed))) == len(owed)
            owed.sort(key=_DUE if unique else _ITEM_ORDER)
            context.customer(debtor, owed, paused.get(debtor.code, []), result)
    return result


_CODE = attrgetter("code")
_DUE = attrgetter("due")
_ITEM_ORDER = attrgetter("due", "number", "key")  # (item.due, item.number, item.key)
_SHAPE = attrgetter("step", "channel", "on")  # what _reached reads of a Done
_PAID = "paid at the bank, waiting for the accountant's entry"


def assign(debtor: Debtor, total_open: Decimal, settings: DunningConfig) -> str:
    """The scenario for a customer: explicit choice, else the first matching rule."""
    if debtor.code in settings.by_customer:
        return settings.by_customer[debtor.code]
    for rule in settings.rules:
        if rule.customers and debtor.code not in rule.customers:
            continue
        if rule.category and debtor.category not in rule.category:
            continue
        if rule.language and debtor.language not in rule.language:
            continue
        if rule.risk and debtor.risk not in rule.risk:
            continue
        if rule.min_open is not None and total_open < rule.min_open:
            continue
        if rule.max_open is not None and total_open > rule.max_open:
            continue
        return rule.scenario
    return settings.default_scenario


@dataclass(slots=True)
class _Context:
    company: Company
    settings: DunningConfig
    rates: Rates
    as_of: dt.date
    history: Mapping[int, list[Done]]
    reached: dict[tuple[object, ...], tuple[int | None, str]] = field(
        default_factory=dict
    )
    late: dict[dt.date, int] = field(default_factory=dict)  # days overdue, by due
    penalty: dict[tuple[dt.date, Decimal | None], Decimal] = field(
        default_factory=dict
    )  # penalty rate, by due date and contractual rate

    def customer(
        self, debtor: Debtor, owed: list[Item], pauses: list[Pause], out: Plan
    ) -> None:
        code = debtor.code
        skipped = out.skipped
        if debtor.excluded:
            skipped.append(Skipped(code, "", "excluded from dunning"))
            return
        on_invoice: dict[int, Pause] = {}  # the first pause of each invoice
        for pause in pauses:
            if pause.invoice_id is None:  # the first pause of the whole customer
                skipped.append(Skipped(code, "", _why(pause)))
                return
            on_invoice.setdefault(pause.invoice_id, pause)
        chased = sum((i.to_chase for i in owed if i.to_chase > 0), ZERO)
        name = assign(debtor, chased, self.settings)
        scenario = self.settings.scenarios[name]
        eligible, triggers = self._sort(code, owed, on_invoice, scenario, skipped)
        if not triggers:
            return
        top = max(index for _, index in triggers)
        step = scenario.steps[top]
        pre_due = step.days is not None and step.days < 0  # a courtesy note
        if not pre_due:  # never ask, let alone demand, what is not due yet
            triggers = [(i, n) for i, n in triggers if i.due < self.as_of]
        listed = {i.invoice_id for i, _ in triggers}
        lines = [
            i
            for i in eligible
            if i.invoice_id in listed or (not pre_due and i.due < self.as_of)
        ]
        waiting = self._too_soon(owed, lines, step)
        if waiting:
            out.skipped += [Skipped(debtor.code, i.number, waiting) for i in lines]
            return
        total = sum((i.to_chase for i in lines), ZERO)
        if total < self.settings.tolerance:
            reason = f"under the tolerance: {total} < {self.settings.tolerance}"
            out.skipped += [Skipped(debtor.code, i.number, reason) for i in lines]
            return
        for channel in step.channels:
            self._message(
                debtor,
                scenario_name=name,
                step=step,
                channel=channel,
                lines=lines,
                triggers=triggers,
                scenario=scenario,
                out=out,
            )

    def _sort(
        self,
        code: str,
        owed: list[Item],
        on_invoice: Mapping[int, Pause],
        scenario: Scenario,
        skipped: list[Skipped],
    ) -> tuple[list[Item], list[tuple[Item, int]]]:
        """The items that may be chased, and those of them a step is due for
        (with its index); why each other item is not chased goes to ``skipped``."""
        tolerance = self.settings.tolerance
        history = self.history
        reached_by = self.reached
        scenario_id = id(scenario)
        eligible: list[Item] = []
        triggers: list[tuple[Item, int]] = []
        for item in owed:
            chase = item.to_chase
            if chase <= 0:
                reason = _PAID
            elif chase < tolerance:
                reason = f"under the tolerance: {chase} < {tolerance}"
            else:
                held = on_invoice.get(item.invoice_id) if on_invoice else None
                reason = _why(held) if held is not None else ""
            if reason:
                skipped.append(Skipped(code, item.number, reason))
                continue
            eligible.append(item)
            # _reached depends on nothing else of the item than its due date and
            # history: a million open items share a few hundred due dates and a
            # few history shapes; computed once per scenario, due date and history
            done = history.get(item.invoice_id)
            key = (
                (scenario_id, item.due, tuple(map(_SHAPE, done)))
                if done
                else (scenario_id, item.due)
            )
            found = reached_by.get(key)
            if found is None:
                found = reached_by[key] = self._reached(item, scenario)
            if found[0] is None:
                skipped.append(Skipped(code, item.number, found[1]))
            else:
                triggers.append((item, found[0]))
        return eligible, triggers

    def _too_soon(self, owed: list[Item], lines: list[Item], step: Step) -> str:
        """Why the customer is not written to today on ``step``'s channels, if so:
        at most one message per ``min_days_between_messages`` and channel.

        A message that went out today excuses only itself, planned again (the
        check before sending, a second cycle the same day): the same step for
        invoices it listed. Another step the same day (a courtesy note after this
        morning's reminder) waits like any other message.
        """
        gap = self.settings.min_days_between_messages
        if gap <= 0:
            return ""
        sent = [
            (i.invoice_id, d)
            for i in owed
            for d in self.history.get(i.invoice_id, [])
            if d.channel in step.channels
        ]
        last = max((d.on for _, d in sent), default=None)
        if last is None or (self.as_of - last).days >= gap:
            return ""
        if last == self.as_of:
            today = [(n, d.step) for n, d in sent if d.on == last]
            listed = {n for n, _ in today}
            if all(s == step.id for _, s in today) and all(
                i.invoice_id in listed for i in lines
            ):
                return ""
        again = last + dt.timedelta(days=gap)
        return f"reminded on {last.isoformat()}; next message from {again.isoformat()}"

    def _reached(  # noqa: C901 - each rule of a step, in order
        self, item: Item, scenario: Scenario
    ) -> tuple[int | None, str]:
        """The highest step ``item`` has reached and not fully had yet, or why none.

        A step counts as had once every one of its channels went out; its date
        is the first day one did. No step comes sooner than
        ``min_days_between_steps`` after an earlier one went out for the item.
        """
        done = self.history.get(item.invoice_id, [])
        sent_on: dict[str, dt.date] = {}
        channels: dict[str, set[str]] = defaultdict(set)
        for d in done:
            sent_on[d.step] = min(sent_on.get(d.step, d.on), d.on)
            channels[d.step].add(d.channel)
        complete = {
            s.id for s in scenario.steps if set(s.channels) <= channels.get(s.id, set())
        }
        gap = dt.timedelta(days=self.settings.min_days_between_steps)
        reached: int | None = None
        next_at: tuple[str, dt.date] | None = None
        for index, step in enumerate(scenario.steps):
            earlier = [s.id for s in scenario.steps[:index] if s.id in sent_on]
            if step.requires_previous and not earlier:
                continue
            if step.days is not None and step.days < 0 and self.as_of >= item.due:
                continue  # a courtesy note comes before the due date or not at all
            at = self._trigger(item, scenario, index, sent_on)
            if at is not None and earlier and step.id not in sent_on:
                at = max(at, max(sent_on[e] for e in earlier) + gap)
            if at is not None and at <= self.as_of:
                reached = index
            elif at is not None and next_at is None:
                next_at = (step.id, at)
        last = max(
            (i for i, s in enumerate(scenario.steps) if s.id in complete), default=None
        )
        if reached is not None and (last is None or reached > last):
            return reached, ""
        if reached is not None and last is not None:
            step_id = scenario.steps[last].id
            why = f"{step_id} already sent on {sent_on[step_id].isoformat()}"
        else:
            why = "not due for any step yet"
        if next_at is not None:
            why += f"; next: {next_at[0]} on {next_at[1].isoformat()}"
        return None, why

    def _trigger(
        self, item: Item, scenario: Scenario, index: int, sent_on: dict[str, dt.date]
    ) -> dt.date | None:
        step = scenario.steps[index]
        if step.days is not None:
            return item.due + dt.timedelta(days=step.days)
        previous = scenario.steps[index - 1].id
        if previous not in sent_on or step.after_previous is None:
            return None
        return sent_on[previous] + dt.timedelta(days=step.after_previous)

    def _penalty_rate(self, due: dt.date, contractual: Decimal | None) -> Decimal:
        key = (due, contractual)
        rate = self.penalty.get(key)
        if rate is None:
            rate = self.penalty[key] = self.rates.penalty_rate(due, contractual)
        return rate

    def _message(
        self,
        debtor: Debtor,
        *,
        scenario_name: str,
        step: Step,
        channel: str,
        lines: list[Item],
        triggers: list[tuple[Item, int]],
        scenario: Scenario,
        out: Plan,
    ) -> None:
        # every invoice the message carries is told at the message's step: it
        # never gets a milder step afterwards
        history = self.history
        step_id = step.id
        new: list[tuple[Item, str]] = []
        for item, _ in triggers:
            for d in history.get(item.invoice_id, ()):
                if d.step == step_id and d.channel == channel:
                    break  # this step already went out on this channel for it
            else:
                new.append((item, step_id))
        if not new:
            return
        missing = _missing_address(debtor, channel)
        if missing:
            out.skipped += [
                Skipped(debtor.code, i.number, f"{channel}: {missing}") for i, _ in new
            ]
            return
        key = reminder_key(
            self.company.code,
            debtor.code,
            scenario_name,
            step.id,
            channel,
            items=[(i.key, i.due) for i, _ in new],
        )
        notice = self._notice(
            key,
            debtor,
            scenario=scenario_name,
            step=step,
            channel=channel,
            items=lines,
        )
        out.reminders.append(
            Planned(
                notice=notice,
                customer_id=debtor.id,
                recipient=Recipient(
                    name=debtor.contact_name or debtor.name,
                    email=debtor.email,
                    phone=debtor.phone,
                    address=debtor.address,
                ),
                triggers=tuple((i.invoice_id, s) for i, s in new),
                opens=tuple(i.to_chase for i, _ in new),
                registered=step.registered,
            )
        )

    def _notice(
        self,
        key: str,
        debtor: Debtor,
        *,
        scenario: str,
        step: Step,
        channel: str,
        items: list[Item],
    ) -> Notice:
        claims = not debtor.consumer
        contractual = self.settings.interest.by_customer.get(debtor.code)
        claim_interest = claims and step.claim_interest
        indemnity = (
            self.settings.interest.indemnity
            if claims and step.claim_indemnity
            else ZERO
        )
        as_of = self.as_of
        late_by_due = self.late
        lines = []
        rate_used: Decimal | None = None
        total_open = total_interest = total_indemnity = ZERO
        for item in items:
            due = item.due
            late = late_by_due.get(due)
            if late is None:
                late = late_by_due[due] = max((as_of - due).days, 0)
            owed = ZERO
            if claim_interest and late > 0:
                rate = self._penalty_rate(due, contractual)
                owed = interest(item.to_chase, due, as_of, rate)
                if owed:
                    rate_used = rate if rate_used is None else max(rate_used, rate)
            charged = indemnity if late > 0 else ZERO
            lines.append(
                Line(
                    number=item.number,
                    issued=item.issued,
                    due=due,
                    amount=item.amount,
                    open=item.to_chase,
                    days_overdue=late,
                    interest=owed,
                    indemnity=charged,
                )
            )
            total_open += item.to_chase  # in the order of the lines, from ZERO
            total_interest += owed
            total_indemnity += charged
        pay_by = (
            self.as_of + dt.timedelta(days=step.pay_within_days)
            if step.pay_within_days
            else None
        )
        return Notice(
            key=key,
            company=self.company.code,
            sender=self.company.sender,
            customer=debtor.code,
            customer_name=debtor.name,
            contact_name=debtor.contact_name,
            language=debtor.language or "fr",
            scenario=scenario,
            step=step.id,
            template=step.template,
            tone=step.tone,
            channel=channel,  # type: ignore[arg-type]
            as_of=self.as_of,
            lines=tuple(lines),
            total_open=total_open,
            total_interest=total_interest,
            total_indemnity=total_indemnity,
            total_claimed=total_open + total_interest + total_indemnity,
            claim_interest=claims and step.claim_interest,
            claim_indemnity=claims and step.claim_indemnity,
            interest_rate=rate_used,
            pay_by=pay_by,
            currency=self.company.currency,
        )


def _why(pause: Pause) -> str:
    until = f" until {pause.until.isoformat()}" if pause.until else ""
    label = {"dispute": "disputed", "promise": "payment promised", "hold": "on hold"}
    return f"{label.get(pause.kind, pause.kind)}{until}: {pause.reason}"


def _missing_address(debtor: Debtor, channel: str) -> str:
    if channel == "email" and not debtor.email:
        return "no e-mail address"
    if channel == "sms" and not debtor.phone:
        return "no phone number"
    return ""


def reminder_key(
    company: str,
    customer: str,
    scenario: str,
    step: str,
    channel: str,
    *,
    items: Sequence[tuple[str, dt.date]],
) -> str:
    """The idempotency key: the same reminder for the same items, the same key."""
    parts = [company, customer, scenario, step, channel]
    parts += [f"{key}@{due.isoformat()}" for key, due in sorted(items)]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]
