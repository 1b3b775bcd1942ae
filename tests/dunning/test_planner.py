"""The pure planner: who is reminded, at which step, and why others are not."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sageconnect.dunning.contacts import overlay, read_contacts
from sageconnect.dunning.interest import Rates, interest
from sageconnect.dunning.message import Sender
from sageconnect.dunning.planner import (
    Company,
    Debtor,
    Done,
    Item,
    Pause,
    Plan,
    plan,
)
from sageconnect.dunning.settings import DunningConfig

STEPS: list[dict[str, Any]] = [
    {"id": "courtesy", "days": -5, "channels": ["email"], "template": "courtesy"},
    {"id": "first", "days": 7, "channels": ["email"], "template": "first_reminder"},
    {
        "id": "second",
        "after_previous": 10,
        "channels": ["email", "sms"],
        "template": "second_reminder",
    },
    {
        "id": "formal",
        "days": 45,
        "channels": ["letter"],
        "template": "formal_notice",
        "tone": "formal",
        "claim_interest": True,
        "claim_indemnity": True,
        "pay_within_days": 8,
    },
]
CONFIG = DunningConfig.model_validate(
    {
        "scenarios": {
            "standard": {"steps": STEPS},
            "gentle": {"steps": [STEPS[1]]},
        },
        "rules": [{"scenario": "gentle", "category": ["ASSOC"]}],
        "channels": {
            "email": {"kind": "folder", "path": "out"},
            "sms": {"kind": "folder", "path": "out"},
            "letter": {"kind": "folder", "path": "out"},
        },
    }
)
COMPANY = Company(code="acme", sender=Sender(name="ACME SAS"))
RATES = Rates.build()
TODAY = dt.date(2026, 11, 24)


def debtor(code: str = "C1", **kw: Any) -> Debtor:
    base: dict[str, Any] = {
        "id": int(code[1:]),
        "code": code,
        "name": f"Client {code}",
        "email": f"{code.lower()}@example.com",
        "phone": "0612345678",
    }
    return Debtor(**{**base, **kw})


def item(n: int, due: dt.date, amount: str = "100.00", customer: str = "C1") -> Item:
    value = Decimal(amount)
    return Item(
        invoice_id=n,
        key=f"VE/{n}",
        customer=customer,
        number=f"FA{n:04d}",
        issued=due - dt.timedelta(days=30),
        due=due,
        amount=value,
        open=value,
        to_chase=value,
    )


def run(
    items: list[Item],
    *,
    debtors: list[Debtor] | None = None,
    pauses: list[Pause] | None = None,
    done: list[Done] | None = None,
    day: dt.date = TODAY,
) -> Plan:
    return plan(
        company=COMPANY,
        debtors=debtors or [debtor()],
        items=items,
        pauses=pauses or [],
        done=done or [],
        settings=CONFIG,
        rates=RATES,
        as_of=day,
    )


def days_ago(n: int) -> dt.date:
    return TODAY - dt.timedelta(days=n)


def test_one_message_per_customer_worded_at_the_highest_step() -> None:
    """Two overdue invoices at different steps: one email, at 'first', listing both."""
    result = run([item(1, days_ago(8)), item(2, days_ago(30))])
    (only,) = result.reminders
    assert (only.notice.step, only.notice.channel) == ("first", "email")
    assert [x.number for x in only.notice.lines] == ["FA0002", "FA0001"]
    assert only.notice.total_open == Decimal("200.00")
    assert sorted(only.triggers) == [(1, "first"), (2, "first")]


def test_after_downtime_only_the_current_step_goes_out() -> None:
    """An invoice 50 days late that was never reminded gets the formal notice only."""
    result = run([item(1, days_ago(50))])
    (only,) = result.reminders
    assert (only.notice.step, only.notice.channel) == ("formal", "letter")
    assert only.triggers == ((1, "formal"),)


def test_a_step_already_sent_is_not_planned_again() -> None:
    sent = [Done(1, "first", "email", days_ago(2))]
    result = run([item(1, days_ago(9))], done=sent)
    assert result.reminders == []
    (why,) = result.skipped
    assert why.reason == (
        "first already sent on 2026-11-22; next: second on 2026-12-02"
    )


def test_after_previous_counts_from_when_the_previous_step_went_out() -> None:
    sent = [Done(1, "first", "email", days_ago(10))]
    result = run([item(1, days_ago(20))], done=sent)
    assert sorted((r.notice.step, r.notice.channel) for r in result.reminders) == [
        ("second", "email"),
        ("second", "sms"),
    ]


def test_disputed_promised_and_bank_paid_invoices_are_left_out_with_a_reason() -> None:
    items = [
        item(1, days_ago(8)),
        item(2, days_ago(8)),
        item(3, days_ago(8)),
        item(4, days_ago(8)),
    ]
    items[3] = items[3]._replace(to_chase=Decimal("0.00"))
    pauses = [
        Pause(
            kind="dispute", customer="C1", invoice_id=2, until=None, reason="damaged"
        ),
        Pause(
            kind="promise",
            customer="C1",
            invoice_id=3,
            until=TODAY + dt.timedelta(days=3),
            reason="by phone",
        ),
    ]
    result = run(items, pauses=pauses)
    (only,) = result.reminders
    assert [x.number for x in only.notice.lines] == ["FA0001"]
    reasons = {s.invoice: s.reason for s in result.skipped}
    assert reasons == {
        "FA0002": "disputed: damaged",
        "FA0003": "payment promised until 2026-11-27: by phone",
        "FA0004": "paid at the bank, waiting for the accountant's entry",
    }


def test_a_promise_that_expired_no_longer_pauses() -> None:
    promise = Pause(
        kind="promise", customer="C1", invoice_id=1, until=days_ago(1), reason="x"
    )
    assert len(run([item(1, days_ago(8))], pauses=[promise]).reminders) == 1


def test_holds_exclusions_and_tolerance() -> None:
    hold = Pause(kind="hold", customer="C1", invoice_id=None, until=None, reason="DAF")
    assert run([item(1, days_ago(8))], pauses=[hold]).skipped[0].reason == (
        "on hold: DAF"
    )
    excluded = run([item(1, days_ago(8))], debtors=[debtor(excluded=True)])
    assert (excluded.reminders, excluded.skipped[0].reason) == (
        [],
        "excluded from dunning",
    )
    small = run([item(1, days_ago(8), "4.99")])
    assert small.reminders == []
    assert small.skipped[0].reason.startswith("under the tolerance")


def test_rules_pick_the_scenario() -> None:
    """A customer in category ASSOC follows 'gentle' (first step only)."""
    result = run([item(1, days_ago(50))], debtors=[debtor(category="ASSOC")])
    (only,) = result.reminders
    assert (only.notice.scenario, only.notice.step) == ("gentle", "first")


def test_formal_notice_claims_interest_and_the_indemnity_not_from_consumers() -> None:
    due = dt.date(2026, 9, 1)
    (letter,) = run([item(1, due, "1000.00")], day=dt.date(2026, 11, 24)).reminders
    rate = RATES.penalty_rate(due)
    assert rate == Decimal("12.15")  # ECB 2.15 + 10 points, above 3 x 2.62
    (line,) = letter.notice.lines
    assert line.interest == interest(Decimal("1000.00"), due, TODAY, rate)
    assert line.days_overdue == 84
    assert line.interest == Decimal("27.96")  # 1000 x 12.15 % x 84 / 365
    assert line.indemnity == Decimal("40.00")
    assert letter.notice.total_claimed == Decimal("1067.96")
    assert letter.notice.pay_by == TODAY + dt.timedelta(days=8)
    consumer = run([item(1, due, "1000.00")], debtors=[debtor(consumer=True)])
    (plain,) = consumer.reminders[0].notice.lines
    assert (plain.interest, plain.indemnity) == (Decimal("0.00"), Decimal("0.00"))


def test_a_contractual_rate_never_goes_under_three_times_the_legal_rate() -> None:
    assert RATES.penalty_rate(dt.date(2026, 3, 1), Decimal("5.00")) == Decimal("7.86")
    assert RATES.penalty_rate(dt.date(2026, 3, 1), Decimal("15.00")) == Decimal("15.00")


def test_no_email_address_is_a_reason_not_a_crash() -> None:
    result = run([item(1, days_ago(8))], debtors=[debtor(email="")])
    assert result.reminders == []
    assert result.skipped[0].reason == "email: no e-mail address"


# --- properties -------------------------------------------------------------

ledgers = st.lists(
    st.tuples(
        st.sampled_from(["C1", "C2", "C3"]),
        st.integers(-20, 120),  # due, in days before today
        st.integers(1, 500_000),
    ),
    max_size=15,
)


def build(rows: list[tuple[str, int, int]]) -> list[Item]:
    return [
        item(n, days_ago(ago), str(Decimal(cents) / 100), customer)
        for n, (customer, ago, cents) in enumerate(rows, start=1)
    ]


DEBTORS = [debtor("C1"), debtor("C2"), debtor("C3", language="en")]


@settings(max_examples=150, deadline=None)
@given(ledgers)
def test_planning_the_same_state_twice_gives_the_same_keys(
    rows: list[tuple[str, int, int]],
) -> None:
    items = build(rows)
    first = run(items, debtors=DEBTORS)
    again = run(list(reversed(items)), debtors=list(reversed(DEBTORS)))
    assert [r.notice.key for r in first.reminders] == [
        r.notice.key for r in again.reminders
    ]
    assert first.reminders == again.reminders


@settings(max_examples=100, deadline=None)
@given(ledgers, st.integers(10, 80))
def test_planning_day_after_day_never_plans_a_step_twice(
    rows: list[tuple[str, int, int]], days: int
) -> None:
    """Sending what each day plans, over weeks: each (invoice, step, channel) at most once."""
    items = build(rows)
    done: list[Done] = []
    seen: set[tuple[int, str, str]] = set()
    start = TODAY - dt.timedelta(days=days)
    for offset in range(days):
        day = start + dt.timedelta(days=offset)
        for planned in run(items, debtors=DEBTORS, done=done, day=day).reminders:
            channel = planned.notice.channel
            for invoice, step in planned.triggers:
                assert (invoice, step, channel) not in seen
                seen.add((invoice, step, channel))
                done.append(Done(invoice, step, channel, day))


def test_a_step_that_requires_a_previous_one_waits_for_it() -> None:
    """At go-live an invoice 60 days late gets the first reminder, not a formal notice."""
    config = DunningConfig.model_validate(
        {
            "scenarios": {
                "standard": {
                    "steps": [STEPS[1], {**STEPS[3], "requires_previous": True}]
                }
            },
            "channels": CONFIG.model_dump()["channels"],
        }
    )

    def steps_on(day: dt.date, done: list[Done]) -> list[str]:
        result = plan(
            company=COMPANY,
            debtors=[debtor()],
            items=[item(1, days_ago(60))],
            pauses=[],
            done=done,
            settings=config,
            rates=RATES,
            as_of=day,
        )
        return [r.notice.step for r in result.reminders]

    assert steps_on(TODAY, []) == ["first"]
    history = [Done(1, "first", "email", TODAY)]
    # never two steps within min_days_between_steps (7) for one invoice
    assert steps_on(TODAY + dt.timedelta(days=1), history) == []
    assert steps_on(TODAY + dt.timedelta(days=7), history) == ["formal"]


def test_each_channel_of_a_step_goes_out_once_even_if_another_went_first() -> None:
    """The e-mail of 'second' went out; its SMS had not: only the SMS is planned."""
    history = [
        Done(1, "first", "email", days_ago(10)),
        Done(1, "second", "email", days_ago(0)),
    ]
    result = run([item(1, days_ago(20))], done=history)
    assert [(r.notice.step, r.notice.channel) for r in result.reminders] == [
        ("second", "sms")
    ]


def test_the_lease_must_outlast_the_slowest_channel() -> None:
    """A 5-minute lease with a 600 s SMTP timeout is refused at start-up."""
    data = CONFIG.model_dump(by_alias=True)
    data["lease_minutes"] = 5
    data["channels"]["email"] = {
        "kind": "smtp",
        "host": "smtp.example.lan",
        "from_address": "relances@acme.example",
        "timeout": 600,
    }
    with pytest.raises(ValueError, match="lease_minutes = 5"):
        DunningConfig.model_validate(data)


def test_the_contacts_file_can_mark_a_consumer(tmp_path: Path) -> None:
    """consumer=oui in the contacts file: no penalties, no indemnity claimed."""
    path = tmp_path / "contacts.csv"
    path.write_text(
        "customer;email;consumer\nC1;c1@example.com;oui\nC2;c2@example.com;\n",
        encoding="utf-8",
    )
    contacts, rejects = read_contacts(path)
    assert rejects == []
    one, two = overlay([debtor("C1"), debtor("C2", consumer=True)], contacts)
    assert (one.consumer, two.consumer) == (True, True)  # blank keeps the source's
    due = dt.date(2026, 9, 1)
    (letter,) = run([item(1, due, "1000.00")], debtors=[one]).reminders
    (line,) = letter.notice.lines
    assert (line.interest, line.indemnity) == (Decimal("0.00"), Decimal("0.00"))


def test_the_rate_table_says_when_a_half_year_is_missing() -> None:
    """Shipped to H1 2026: H2 2026 borrows H1's rates and says so; a site adds it."""
    assert RATES.is_current(dt.date(2026, 3, 1))
    assert not RATES.is_current(dt.date(2026, 11, 24))
    added = Rates.build([(dt.date(2026, 7, 1), Decimal("2.00"), Decimal("2.50"))])
    assert added.is_current(dt.date(2026, 11, 24))
    assert added.penalty_rate(dt.date(2026, 10, 1)) == Decimal("12.00")
