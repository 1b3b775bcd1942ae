"""The pure alert rules: each kind, each level, on chosen days; gone when the cause is."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

import pytest

from sageconnect.credit.alerts import Alert, Buyer, Cover, Invoice, evaluate
from sageconnect.credit.settings import CreditConfig, Policy

D = dt.date
AS_OF = D(2026, 11, 24)
POLICY = Policy(
    insurer="Allianz Trade",
    number="P-1",
    max_credit_days=60,
    declaration_days=30,
    warn_days=(7, 3),
    stop_delivery_days=60,
)
SETTINGS = CreditConfig(
    policies={"main": POLICY},
    uninsured_threshold=Decimal("1000.00"),
    limit_expiry_days=30,
    prescription_warning_days=180,
)


def cover(
    limit: str = "10000.00",
    *,
    decision: str = "approved",
    reference: str = "",
    valid_until: dt.date | None = None,
) -> Cover:
    return Cover(
        insurer="Allianz Trade",
        limit=Decimal(limit),
        decision=decision,
        reference=reference,
        valid_until=valid_until,
    )


def buyer(
    exposure: str,
    *,
    insured: Cover | None = None,
    credit_limit: Decimal | None = None,
    previous: Cover | None = None,
) -> Buyer:
    return Buyer(
        code="C0042",
        name="Café de l'Étoile",
        exposure=Decimal(exposure),
        credit_limit=credit_limit,
        cover=insured,
        previous=previous,
    )


def invoice(
    number: str,
    due: dt.date,
    open_: str = "1000.00",
    *,
    issued: dt.date | None = None,
    disputed: bool = False,
) -> Invoice:
    return Invoice(
        customer="C0042",
        key=number,
        number=number,
        issued=issued or due - dt.timedelta(days=30),
        due=due,
        open=Decimal(open_),
        disputed=disputed,
    )


def check(
    b: Buyer,
    invoices: Sequence[Invoice] = (),
    as_of: dt.date = AS_OF,
    *,
    policy: Policy | None = POLICY,
    settings: CreditConfig = SETTINGS,
) -> list[Alert]:
    return evaluate(
        buyers=[b], invoices=invoices, policy=policy, settings=settings, as_of=as_of
    )


def of(alerts: list[Alert], kind: str) -> dict[str, str]:
    """subject -> level for one kind."""
    return {a.subject: a.level for a in alerts if a.kind == kind}


def only(alerts: list[Alert], kind: str) -> Alert:
    (found,) = [a for a in alerts if a.kind == kind]
    return found


# --- declaration countdown -------------------------------------------------------

DUE = D(2026, 10, 1)  # deadline: 31 October (due + 30 days)


@pytest.mark.parametrize(
    ("day", "level"),
    [
        (D(2026, 10, 1), None),  # due today: not overdue yet
        (D(2026, 10, 23), None),  # 8 days before the deadline
        (D(2026, 10, 24), "d7"),
        (D(2026, 10, 27), "d7"),
        (D(2026, 10, 28), "d3"),
        (D(2026, 10, 30), "d3"),
        (D(2026, 10, 31), "today"),
        (D(2026, 11, 1), "late"),
        (D(2026, 12, 15), "late"),
    ],
)
def test_declaration_countdown(day: dt.date, level: str | None) -> None:
    alerts = check(buyer("1000.00", insured=cover()), [invoice("FA1", DUE)], day)
    assert of(alerts, "declaration") == ({"FA1": level} if level else {})


def test_declaration_levels_rise_in_rank_and_carry_the_deadline() -> None:
    days = [D(2026, 10, 24), D(2026, 10, 28), D(2026, 10, 31), D(2026, 11, 1)]
    found = [
        only(
            check(buyer("1000.00", insured=cover()), [invoice("FA1", DUE)], d),
            "declaration",
        )
        for d in days
    ]
    assert [a.level for a in found] == ["d7", "d3", "today", "late"]
    ranks = [a.rank for a in found]
    assert ranks == sorted(ranks)
    assert len(set(ranks)) == len(ranks)
    assert {a.key for a in found} == {"declaration:C0042:FA1"}
    assert found[0].facts["deadline"] == "2026-10-31"


def test_declaration_from_the_end_of_the_extension() -> None:
    """Atradius-style: the deadline runs from the end of the extension period."""
    policy = POLICY.model_copy(
        update={"extension_days": 30, "declaration_from": "extension_end"}
    )
    b = buyer("1000.00", insured=cover())
    assert (
        of(
            check(b, [invoice("FA1", DUE)], D(2026, 10, 28), policy=policy),
            "declaration",
        )
        == {}
    )
    late = only(
        check(b, [invoice("FA1", DUE)], D(2026, 11, 27), policy=policy), "declaration"
    )
    assert (late.level, late.facts["deadline"]) == ("d3", "2026-11-30")


def test_no_declaration_without_cover_or_policy() -> None:
    overdue = [invoice("FA1", DUE)]
    assert of(check(buyer("1000.00"), overdue, D(2026, 11, 1)), "declaration") == {}
    assert (
        of(
            check(
                buyer("1000.00", insured=cover()), overdue, D(2026, 11, 1), policy=None
            ),
            "declaration",
        )
        == {}
    )


# --- exposure, credit limit, uninsured -----------------------------------------


@pytest.mark.parametrize(
    ("exposure", "level"),
    [
        ("7999.99", None),
        ("8000.00", "warning"),  # 80 %
        ("10000.00", "warning"),  # at the limit: not above it
        ("10000.01", "over"),
    ],
)
def test_exposure_against_the_insured_limit(exposure: str, level: str | None) -> None:
    alerts = check(buyer(exposure, insured=cover()))
    assert of(alerts, "exposure") == ({"": level} if level else {})


def test_exposure_over_says_what_is_uncovered() -> None:
    alert = only(check(buyer("12500.00", insured=cover())), "exposure")
    assert alert.rank == 2
    assert alert.facts["uncovered"] == "2500.00"
    assert alert.facts["insurer"] == "Allianz Trade"


def test_the_warning_share_is_a_setting() -> None:
    settings = SETTINGS.model_copy(update={"warning_share": Decimal("0.90")})
    assert (
        of(check(buyer("8500.00", insured=cover()), settings=settings), "exposure")
        == {}
    )
    assert of(
        check(buyer("9000.00", insured=cover()), settings=settings), "exposure"
    ) == {"": "warning"}


def test_credit_limit() -> None:
    over = check(buyer("5000.01", credit_limit=Decimal("5000.00")))
    assert of(over, "credit_limit") == {"": "over"}
    assert only(over, "credit_limit").facts["excess"] == "0.01"
    assert (
        of(check(buyer("5000.00", credit_limit=Decimal("5000.00"))), "credit_limit")
        == {}
    )


@pytest.mark.parametrize(
    ("exposure", "insured", "level"),
    [
        ("1000.00", None, None),  # not above the threshold
        ("1000.01", None, "warning"),
        ("1500.00", cover(decision="refused"), "warning"),
        ("1500.00", cover("0.00"), "warning"),
        ("1500.00", cover(), None),  # insured
        ("0.00", None, None),
    ],
)
def test_uninsured(exposure: str, insured: Cover | None, level: str | None) -> None:
    alerts = check(buyer(exposure, insured=insured))
    assert of(alerts, "uninsured") == ({"": level} if level else {})


def test_uninsured_above_the_non_named_buyer_threshold() -> None:
    policy = POLICY.model_copy(update={"non_denomme": Decimal("5000.00")})
    assert of(check(buyer("6000.00"), policy=policy), "uninsured") == {"": "over"}
    assert of(check(buyer("4000.00"), policy=policy), "uninsured") == {"": "warning"}


# --- covers: expiry and changes ----------------------------------------------------


@pytest.mark.parametrize(
    ("until", "exposure", "level"),
    [
        (AS_OF + dt.timedelta(days=31), "100.00", None),
        (AS_OF + dt.timedelta(days=30), "100.00", "soon"),
        (AS_OF, "100.00", "soon"),  # the last day covered
        (AS_OF - dt.timedelta(days=1), "100.00", "expired"),
        (AS_OF - dt.timedelta(days=1), "0.00", None),  # ended, nothing owed
    ],
)
def test_limit_expiry(until: dt.date, exposure: str, level: str | None) -> None:
    alerts = check(buyer(exposure, insured=cover(reference="DEC-9", valid_until=until)))
    assert of(alerts, "limit_expiry") == ({"DEC-9": level} if level else {})


def test_limit_reduced_or_cancelled() -> None:
    before = cover("10000.00", reference="DEC-1")
    reduced = check(
        buyer("100.00", insured=cover("6000.00", reference="DEC-2"), previous=before)
    )
    assert of(reduced, "limit_change") == {"DEC-2": "reduced"}
    assert only(reduced, "limit_change").facts["after"] == "6000.00"
    cancelled = check(
        buyer(
            "100.00",
            insured=cover("0.00", decision="cancelled", reference="DEC-3"),
            previous=before,
        )
    )
    assert of(cancelled, "limit_change") == {"DEC-3": "cancelled"}
    raised = check(
        buyer("100.00", insured=cover("20000.00", reference="DEC-4"), previous=before)
    )
    assert of(raised, "limit_change") == {}


# --- stop deliveries, terms, disputes -------------------------------------------


@pytest.mark.parametrize(
    ("day", "level"),
    [
        (D(2026, 11, 22), None),  # stop on 30 November (due + 60)
        (D(2026, 11, 23), "soon"),
        (D(2026, 11, 29), "soon"),
        (D(2026, 11, 30), "stop"),
    ],
)
def test_stop_delivery(day: dt.date, level: str | None) -> None:
    later = invoice("FA2", D(2026, 11, 1))
    alerts = check(buyer("2000.00", insured=cover()), [later, invoice("FA1", DUE)], day)
    assert of(alerts, "stop_delivery") == ({"": level} if level else {})
    if level:
        assert only(alerts, "stop_delivery").facts["invoice"] == "FA1"  # the oldest


def test_terms_beyond_the_policy() -> None:
    long = invoice("FA1", D(2026, 12, 30), issued=D(2026, 10, 1))  # 90 days
    fine = invoice("FA2", D(2026, 12, 30), issued=D(2026, 10, 31))  # 60 days
    alerts = check(buyer("2000.00", insured=cover()), [long, fine])
    assert of(alerts, "terms") == {"FA1": "beyond_policy"}
    assert only(alerts, "terms").facts["days"] == "90"


def test_dispute_suspends_the_cover() -> None:
    disputed = [
        invoice("FA1", D(2026, 12, 30), disputed=True),
        invoice("FA2", D(2026, 12, 30)),
    ]
    b = buyer("2000.00", insured=cover())
    assert of(check(b, disputed), "dispute") == {"FA1": "suspended"}
    lenient = POLICY.model_copy(update={"dispute_suspends_cover": False})
    assert of(check(b, disputed, policy=lenient), "dispute") == {}
    assert of(check(buyer("2000.00"), disputed), "dispute") == {}  # nothing insured


# --- prescription ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "level"),
    [
        (D(2025, 12, 2), None),  # time-barred on 1 June 2026, warned 180 days before
        (D(2025, 12, 3), "soon"),
        (D(2026, 6, 1), "soon"),
        (D(2026, 6, 2), "prescribed"),
    ],
)
def test_prescription(day: dt.date, level: str | None) -> None:
    old = invoice("FA0", D(2021, 6, 1))
    alerts = check(buyer("1000.00"), [old], day, policy=None)
    assert of(alerts, "prescription") == ({"FA0": level} if level else {})


def test_prescription_of_a_29_february() -> None:
    leap = invoice("FA0", D(2024, 2, 29))
    alert = only(
        check(buyer("1000.00"), [leap], D(2029, 1, 1), policy=None), "prescription"
    )
    assert alert.facts["limit"] == "2029-02-28"


# --- clearing, stability ----------------------------------------------------------


def test_alerts_go_when_their_cause_goes() -> None:
    """Paid: the declaration, stop and exposure alerts all go; nothing else comes."""
    day = D(2026, 11, 30)
    owing = check(
        buyer("9000.00", insured=cover()), [invoice("FA1", DUE, "9000.00")], day
    )
    assert {a.kind for a in owing} == {"exposure", "declaration", "stop_delivery"}
    paid = check(buyer("0.00", insured=cover()), [invoice("FA1", DUE, "0.00")], day)
    assert paid == []


def test_a_lower_exposure_lowers_the_level() -> None:
    assert of(check(buyer("10500.00", insured=cover())), "exposure") == {"": "over"}
    assert of(check(buyer("8500.00", insured=cover())), "exposure") == {"": "warning"}
    assert of(check(buyer("5000.00", insured=cover())), "exposure") == {}


def test_the_same_data_gives_the_same_alerts_in_the_same_order() -> None:
    b = buyer(
        "12000.00",
        insured=cover(valid_until=D(2026, 12, 1)),
        credit_limit=Decimal("1.00"),
    )
    invoices = [invoice("FA2", D(2026, 10, 20), disputed=True), invoice("FA1", DUE)]
    first = check(b, invoices)
    assert first == check(b, list(reversed(invoices)))
    keys = [a.key for a in first]
    assert len(keys) == len(set(keys))
    assert all(a.key == f"{a.kind}:{a.customer}:{a.subject}" for a in first)
