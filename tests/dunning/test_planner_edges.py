"""Edge cases found in review: the pure planner and the interest rules, as a credit manager reads the
result. Each was a defect found in review, fixed since."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sageconnect.dunning.interest import Rates
from sageconnect.dunning.message import Sender
from sageconnect.dunning.planner import Company, Debtor, Done, Item, Plan, plan
from sageconnect.dunning.settings import DunningConfig

# The scenario of test_planner.py: a courtesy note 5 days before the due date,
# a first reminder 7 days after, a second one 10 days after the first, and a
# formal notice by letter 45 days after the due date.
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
        "scenarios": {"standard": {"steps": STEPS}},
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


def item(n: int, due: dt.date, amount: str = "100.00") -> Item:
    value = Decimal(amount)
    return Item(
        invoice_id=n,
        key=f"VE/{n}",
        customer="C1",
        number=f"FA{n:04d}",
        issued=due - dt.timedelta(days=30),
        due=due,
        amount=value,
        open=value,
        to_chase=value,
    )


def days_ago(n: int) -> dt.date:
    return TODAY - dt.timedelta(days=n)


def run(
    items: list[Item],
    *,
    done: list[Done] | None = None,
    day: dt.date = TODAY,
    settings: DunningConfig = CONFIG,
    **debtor_fields: Any,
) -> Plan:
    return plan(
        company=COMPANY,
        debtors=[debtor(**debtor_fields)],
        items=items,
        pauses=[],
        done=done or [],
        settings=settings,
        rates=RATES,
        as_of=day,
    )


def record(result: Plan, day: dt.date, done: list[Done]) -> None:
    for r in result.reminders:
        for invoice, step in r.triggers:
            done.append(Done(invoice, step, r.notice.channel, day))


def test_a_formal_notice_never_demands_an_invoice_not_yet_due() -> None:
    """FA1 is 50 days late (formal notice); FA2 falls due in 3 days (courtesy
    window). The mise en demeure must not demand FA2: it is not exigible."""
    # Found in review (fixed): planner.py:205-211 lists every trigger, whatever its step, in the
    # message worded at the highest step: FA2's courtesy trigger puts a not yet
    # due invoice in the formal notice, and its amount in total_claimed ("nous
    # vous mettons en demeure de nous régler la somme de ...").
    result = run(
        [
            item(1, days_ago(50), "1000.00"),
            item(2, TODAY + dt.timedelta(days=3), "500.00"),
        ]
    )
    (letter,) = result.reminders
    assert letter.notice.step == "formal"
    assert [x.number for x in letter.notice.lines] == ["FA0001"], [
        (x.number, x.due.isoformat()) for x in letter.notice.lines
    ]


def test_a_courtesy_note_is_never_sent_for_an_invoice_already_overdue() -> None:
    """An invoice first seen 2 days after its due date (monthly FEC export, or
    go-live): the courtesy step (-5 days) is the only one reached. A note saying
    "la facture qui arrive prochainement à échéance" would be false."""
    # Found in review (fixed): _reached (planner.py:256-266) treats a pre-due step whose day has
    # passed as reached even once the invoice is overdue.
    result = run([item(1, days_ago(2))])
    assert [r.notice.step for r in result.reminders] != ["courtesy"], [
        (r.notice.step, [line.days_overdue for line in r.notice.lines])
        for r in result.reminders
    ]


def test_no_first_reminder_after_a_formal_notice_for_the_same_invoice() -> None:
    """FA1 reaches the formal notice (letter) on the day FA2 reaches its first
    reminder: one letter lists both. The next day the customer must not receive
    a courteous 'first reminder' e-mail for FA2 (and FA1) after that letter."""
    # Found in review (fixed): _message (planner.py:304-311, 346) records FA2's trigger as
    # (FA2, 'first', 'letter'), the channel of the top step, a channel 'first'
    # does not have; 'first' stays incomplete for FA2 and its e-mail goes out the
    # next day, listing FA1 too: the tone steps down after a mise en demeure.
    done: list[Done] = []
    items = [item(1, days_ago(50)), item(2, days_ago(8))]
    day1 = run(items, done=done)
    assert [(r.notice.step, r.notice.channel) for r in day1.reminders] == [
        ("formal", "letter")
    ]
    record(day1, TODAY, done)
    tomorrow = TODAY + dt.timedelta(days=1)
    day2 = run(items, done=done, day=tomorrow)
    assert [(r.notice.step, r.notice.channel) for r in day2.reminders] == []


def _rules_config() -> DunningConfig:
    steps = [
        {"id": "first", "days": 7, "channels": ["email"], "template": "first_reminder"},
        {
            "id": "second",
            "days": 20,
            "channels": ["email"],
            "template": "second_reminder",
        },
    ]
    big = [
        {
            "id": "call_first",
            "days": 5,
            "channels": ["email"],
            "template": "first_reminder",
        },
        {
            "id": "call_second",
            "days": 20,
            "channels": ["email"],
            "template": "second_reminder",
        },
    ]
    return DunningConfig.model_validate(
        {
            "scenarios": {"standard": {"steps": steps}, "big": {"steps": big}},
            "rules": [{"scenario": "big", "min_open": "5000.00"}],
            "channels": {"email": {"kind": "folder", "path": "out"}},
        }
    )


def test_a_customer_moving_to_another_scenario_is_not_reminded_again() -> None:
    """FA1 (1 000) got 'first' 2 days ago under 'standard'. A 6 000 invoice
    (not yet due) arrives: the total open crosses the 'big' rule (min_open
    5 000). FA1 must not receive a second first reminder under the new
    scenario's step id two days after the first."""
    # Found in review (fixed): history is matched by step id only (planner.py:244-251, 304-311) and
    # the scenario is re-chosen every day from the total open (assign()): the
    # new scenario's first step is 'new' for FA1 and goes out; the item
    # constraint (invoice, step, channel) does not stop it either.
    config = _rules_config()
    fa1 = item(1, days_ago(9), "1000.00")
    done = [Done(1, "first", "email", days_ago(2))]
    assert run([fa1], done=done, settings=config).reminders == []
    big = item(2, TODAY + dt.timedelta(days=25), "6000.00")
    again = run([fa1, big], done=done, settings=config)
    assert [(r.notice.scenario, r.notice.step) for r in again.reminders] == []


def test_a_customer_is_not_reminded_every_day() -> None:
    """Daily deliveries: FA1, FA2, FA3 due on three consecutive days (scenario
    first +7, second +20). FA1 is listed in a reminder three days running
    (min_days_between_steps is per invoice; nothing limits messages per
    customer)."""
    # Found in review (fixed): planner.py:190-227 sends one message per customer each day a
    # new invoice reaches a step, listing every overdue item again; no minimum
    # interval per customer/channel exists (settings.py has none).
    done: list[Done] = []
    items = [item(1, days_ago(9)), item(2, days_ago(8)), item(3, days_ago(7))]
    listed_fa1 = []
    for offset in range(-2, 1):
        day = TODAY + dt.timedelta(days=offset)
        result = run(items, done=done, day=day, settings=_rules_config())
        record(result, day, done)
        listed_fa1 += [
            day
            for r in result.reminders
            if "FA0001" in {x.number for x in r.notice.lines}
        ]
    assert len(listed_fa1) <= 1, [d.isoformat() for d in listed_fa1]


def test_the_statutory_rate_is_ecb_plus_ten_when_no_rate_is_agreed() -> None:
    """L441-10 II: absent a contractual rate, ECB + 10 points (14,50 % for H1 2024,
    14,25 % for H2 2024). 3 x the legal rate is only a floor for a rate the
    contract sets (the module's own docstring says so)."""
    # Found in review (fixed): interest.py:259-261 applies max(ECB + 10, 3 x legal) without a
    # contractual rate: 15,21 % (H1 2024) and 14,76 % (H2 2024) are claimed, more
    # than the law's default, in a mise en demeure.
    rates = Rates.build()
    assert rates.penalty_rate(dt.date(2024, 3, 1)) == Decimal("14.50")
    assert rates.penalty_rate(dt.date(2024, 9, 1)) == Decimal("14.25")


def test_cents_left_on_an_old_invoice_do_not_trigger_a_formal_notice() -> None:
    """FA1 was paid 30 centimes short 50 days ago; FA2 (1 000,00) is 8 days late.
    The tolerance (5,00) is there so that nobody is chased for cents: the
    customer should get a first reminder for FA2, not a mise en demeure with a
    EUR 40 indemnity for 0,30 (and FA2 swept into it)."""
    # Found in review (fixed): the tolerance is checked on the message total only (planner.py:212-216);
    # an item whose open amount is under it still triggers its own step and sets
    # the tone of the whole message.
    residue = item(1, days_ago(50), "120.00")._replace(
        open=Decimal("0.30"), to_chase=Decimal("0.30")
    )
    result = run([residue, item(2, days_ago(8), "1000.00")])
    assert [(r.notice.step, r.notice.channel) for r in result.reminders] == [
        ("first", "email")
    ], [(r.notice.step, str(r.notice.total_indemnity)) for r in result.reminders]


def test_no_courtesy_note_the_day_a_reminder_went_out_on_its_channel() -> None:
    """FA1 and FA2 overdue get a first reminder by e-mail this morning; FA3, due
    in 3 days, is not in it (nothing not yet due is asked for). A second cycle
    the same day sends no courtesy e-mail for FA3 (one message per customer and
    channel every 3 days)."""
    items = [
        item(1, days_ago(9)),
        item(2, days_ago(8)),
        item(3, TODAY + dt.timedelta(days=3)),
    ]
    done: list[Done] = []
    morning = run(items, done=done)
    assert [
        (r.notice.step, {x.number for x in r.notice.lines}) for r in morning.reminders
    ] == [("first", {"FA0001", "FA0002"})]
    claimed = list(done)
    record(morning, TODAY, claimed)
    again = run(items, done=claimed)
    assert again.reminders == []
    assert any(
        s.invoice == "FA0003" and s.reason.startswith("reminded on 2026-11-24")
        for s in again.skipped
    )


def test_a_step_on_two_channels_still_sends_its_second_channel_the_same_day() -> None:
    """The second reminder goes by e-mail and SMS: once the e-mail went out today,
    the SMS of the same step for the same invoice is still planned."""
    items = [item(1, days_ago(30))]
    done = [Done(1, "first", "email", days_ago(20)), Done(1, "second", "email", TODAY)]
    result = run(items, done=done)
    assert [(r.notice.step, r.notice.channel) for r in result.reminders] == [
        ("second", "sms")
    ]
