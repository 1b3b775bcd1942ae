"""Matching unlettered payers to open debits: reference, then amount, then oldest."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sageconnect.ledger.matching import (
    Match,
    OpenCredit,
    OpenDebit,
    match,
    references,
)

D = dt.date(2026, 1, 1)


def debit(id_: int, number: str, amount: str, due: int) -> OpenDebit:
    day = D + dt.timedelta(days=due)
    return OpenDebit(id_, number, Decimal(amount), day - dt.timedelta(days=30), day)


def pay(id_: int, amount: str, text: str = "", day: int = 60) -> OpenCredit:
    when = D + dt.timedelta(days=day)
    return OpenCredit(id_, "payment", f"P{id_}", Decimal(amount), when, text)


def summary(found: list[Match]) -> list[tuple[int, int, str, str]]:
    return [(m.invoice_id, m.credit_id, str(m.amount), m.method) for m in found]


def test_a_reference_in_the_label_wins_over_age() -> None:
    """'Règlement FA-0003' pays FA-0003 though FA-0001 is older."""
    debits = [debit(1, "FA-0001", "100.00", 0), debit(3, "FA-0003", "250.00", 20)]
    found = match(debits, [pay(9, "250.00", "Règlement FA-0003 Dupré")])
    assert summary(found) == [(3, 9, "250.00", "reference")]


def test_one_payment_naming_several_invoices_pays_each() -> None:
    """A receipt for two invoices pays both, each for its amount, the rest goes oldest."""
    debits = [
        debit(1, "FA2026-00179", "100.00", 0),
        debit(2, "FA2026-00292", "40.00", 10),
        debit(3, "FA2026-00300", "70.00", 5),
    ]
    found = match(debits, [pay(9, "150.00", "VIR FA2026-00292/FA2026-00300")])
    assert summary(found) == [
        (2, 9, "40.00", "reference"),
        (3, 9, "70.00", "reference"),
        (1, 9, "40.00", "oldest"),
    ]


def test_an_exact_amount_beats_the_oldest_invoice() -> None:
    """A payment with no reference, equal to one open invoice, pays that invoice."""
    debits = [debit(1, "F1001", "80.00", 0), debit(2, "F1002", "123.45", 9)]
    found = match(debits, [pay(9, "123.45", "VIR SEPA DUPRE")])
    assert summary(found) == [(2, 9, "123.45", "amount")]


def test_what_is_left_pays_the_oldest_due_first_and_the_excess_stays_unapplied() -> (
    None
):
    """Oldest due date first; nothing beyond what is open is allocated."""
    debits = [debit(1, "F1001", "80.00", 9), debit(2, "F1002", "20.00", 0)]
    found = match(debits, [pay(9, "150.00", "Chèque n°1234567")])
    assert summary(found) == [(2, 9, "20.00", "oldest"), (1, 9, "80.00", "oldest")]


def test_a_credit_note_naming_its_invoice_reduces_it() -> None:
    note = OpenCredit(
        5, "credit_note", "AV1", Decimal("30.00"), D, "AV1 Avoir sur F1002"
    )
    debits = [debit(1, "F1001", "80.00", 0), debit(2, "F1002", "120.00", 9)]
    assert summary(match(debits, [note])) == [(2, 5, "30.00", "reference")]


def test_methods_can_be_narrowed() -> None:
    """With references only, a payment naming nothing stays unapplied."""
    debits = [debit(1, "F1001", "80.00", 0)]
    assert match(debits, [pay(9, "80.00", "VIR")], methods=("reference",)) == []
    assert match(debits, [pay(9, "80.00", "VIR")], methods=()) == []


def test_short_numbers_are_not_looked_for_in_text() -> None:
    """Invoice '12' is not found in 'VIR 12 rue…': too short to be evidence."""
    assert references("VIR 12 rue de la Paix") == ["VIR", "RUE", "PAIX"]
    debits = [debit(1, "12", "10.00", 9), debit(2, "F1001", "5.00", 0)]
    found = match(debits, [pay(9, "5.00", "VIR 12 rue de la Paix")], ("reference",))
    assert found == []


def test_an_allocation_is_dated_no_earlier_than_its_invoice() -> None:
    """A payment on account before the invoice settles it from the invoice's date."""
    late = OpenDebit(1, "F1", Decimal("10.00"), D + dt.timedelta(days=90), D)
    (found,) = match([late], [pay(9, "10.00", day=10)])
    assert found.allocated_on == late.issued


def test_an_unknown_method_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown matching method"):
        match([debit(1, "F1", "1.00", 0)], [pay(2, "1.00")], methods=("guess",))


# --- properties over generated customers -----------------------------------

amounts = st.integers(1, 500_000).map(lambda c: Decimal(c) / 100)
days = st.integers(0, 400)
numbers = st.sampled_from([f"FA{n:04d}" for n in range(1, 13)])


@st.composite
def ledgers(draw: st.DrawFn) -> tuple[list[OpenDebit], list[OpenCredit]]:
    debits = [
        OpenDebit(
            i,
            draw(numbers),
            draw(amounts),
            D + dt.timedelta(days=day),
            D + dt.timedelta(days=day + draw(st.integers(0, 60))),
        )
        for i, day in enumerate(draw(st.lists(days, max_size=12)), start=1)
    ]
    payers = []
    for i in range(draw(st.integers(0, 10))):
        refs = draw(st.lists(numbers, max_size=3))
        side = draw(st.sampled_from(["payment", "credit_note"]))
        text = draw(st.sampled_from(["VIR ", "Règlement ", "", "AVOIR sur "]))
        payers.append(
            OpenCredit(
                100 + i,
                side,
                f"K{i:03d}",
                draw(amounts),
                D + dt.timedelta(days=draw(days)),
                text + " ".join(refs),
            )
        )
    return debits, payers


@settings(max_examples=300, deadline=None)
@given(ledgers())
def test_allocations_never_exceed_either_side(
    ledger: tuple[list[OpenDebit], list[OpenCredit]],
) -> None:
    debits, payers = ledger
    by_debit: dict[int, Decimal] = defaultdict(Decimal)
    by_credit: dict[tuple[str, int], Decimal] = defaultdict(Decimal)
    for m in match(debits, payers):
        assert m.amount > 0
        by_debit[m.invoice_id] += m.amount
        by_credit[m.credit_side, m.credit_id] += m.amount
    assert all(by_debit[d.id] <= d.open for d in debits)
    assert all(by_credit[c.side, c.id] <= c.open for c in payers)
    # with the oldest-first pass, one side is always used up
    allocated = sum(by_debit.values(), Decimal(0))
    assert allocated == min(
        sum((d.open for d in debits), Decimal(0)),
        sum((c.open for c in payers), Decimal(0)),
    )


@settings(max_examples=200, deadline=None)
@given(ledgers(), st.randoms(use_true_random=False))
def test_matching_does_not_depend_on_input_order(
    ledger: tuple[list[OpenDebit], list[OpenCredit]], rnd: object
) -> None:
    debits, payers = ledger
    first = match(debits, payers)
    shuffled_d, shuffled_c = list(debits), list(payers)
    rnd.shuffle(shuffled_d)  # type: ignore[attr-defined]
    rnd.shuffle(shuffled_c)  # type: ignore[attr-defined]
    assert match(shuffled_d, shuffled_c) == first
    assert match(debits, payers) == first
