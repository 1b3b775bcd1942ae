from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from sageconnect.ledger.lettering import Item, allocate

D = dt.date(2026, 1, 1)


def item(id_: int, side: str, amount: str, code: str = "A", day: int = 0) -> Item:
    return Item(id_, side, Decimal(amount), D + dt.timedelta(days=day), code, None)


def test_one_payment_settles_several_invoices_oldest_first() -> None:
    """A payment lettered with two invoices pays the older one first."""
    result = allocate(
        [
            item(1, "invoice", "100.00", day=5),
            item(2, "invoice", "50.00", day=1),
            item(3, "payment", "150.00", day=9),
        ]
    )
    assert [(a.invoice_id, a.credit_id, a.amount) for a in result] == [
        (2, 3, Decimal("50.00")),
        (1, 3, Decimal("100.00")),
    ]


def test_partial_lettering_settles_only_what_was_paid() -> None:
    """A group that does not balance allocates the smaller side and no more."""
    result = allocate(
        [item(1, "invoice", "1000.00", "a"), item(2, "payment", "400.00", "a")]
    )
    assert [(a.invoice_id, a.amount) for a in result] == [(1, Decimal("400.00"))]


def test_groups_do_not_mix() -> None:
    """A payment never settles an invoice of another lettering group."""
    result = allocate(
        [item(1, "invoice", "10.00", "A"), item(2, "payment", "10.00", "B")]
    )
    assert result == []


amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(10**6), places=2)
items = st.lists(
    st.tuples(
        st.sampled_from(["invoice", "payment", "credit_note"]),
        amounts,
        st.sampled_from("ABC"),
        st.integers(0, 60),
    ),
    max_size=30,
)


@given(items)
def test_allocations_never_exceed_either_side(
    rows: list[tuple[str, Decimal, str, int]],
) -> None:
    """No debit or credit is ever allocated more than its own amount."""
    given_items = [item(i, s, str(a), c, d) for i, (s, a, c, d) in enumerate(rows)]
    used: dict[int, Decimal] = defaultdict(Decimal)
    for a in allocate(given_items):
        assert a.amount > 0
        used[a.invoice_id] += a.amount
        used[a.credit_id] += a.amount
    for it in given_items:
        assert used[it.id] <= it.amount


@given(items)
def test_each_group_settles_the_smaller_side(
    rows: list[tuple[str, Decimal, str, int]],
) -> None:
    """Within a group, the total allocated is the smaller of total debits and credits."""
    given_items = [item(i, s, str(a), c, d) for i, (s, a, c, d) in enumerate(rows)]
    result = allocate(given_items)
    for code in "ABC":
        debit = sum(
            (
                i.amount
                for i in given_items
                if i.lettering == code and i.side == "invoice"
            ),
            Decimal(0),
        )
        credit = sum(
            (
                i.amount
                for i in given_items
                if i.lettering == code and i.side != "invoice"
            ),
            Decimal(0),
        )
        allocated = sum((a.amount for a in result if a.lettering == code), Decimal(0))
        assert allocated == min(debit, credit)


@given(items, st.randoms())
def test_allocation_does_not_depend_on_input_order(
    rows: list[tuple[str, Decimal, str, int]], rnd: object
) -> None:
    """The same items in another order give the same allocations."""
    given_items = [item(i, s, str(a), c, d) for i, (s, a, c, d) in enumerate(rows)]
    shuffled = list(given_items)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert allocate(shuffled) == allocate(given_items)


def test_an_allocation_is_never_dated_before_its_payment_arrives() -> None:
    """A lettering date earlier than the payment (a typo, a back-dated letter) does not
    settle the invoice before the money exists."""
    early = D + dt.timedelta(days=5)
    invoice = Item(1, "invoice", Decimal("100.00"), D, "A", early)
    payment = Item(
        2, "payment", Decimal("100.00"), D + dt.timedelta(days=60), "A", early
    )
    (found,) = allocate([invoice, payment])
    assert found.allocated_on == D + dt.timedelta(days=60)


def test_ties_are_broken_by_key_not_by_read_order() -> None:
    """Two same-day invoices in one group: the one with the smaller key is paid first,
    whichever the store happened to number first."""
    a = Item(7, "invoice", Decimal("100.00"), D, "A", None, key="VE/1")
    b = Item(3, "invoice", Decimal("100.00"), D, "A", None, key="VE/2")
    pay = Item(9, "payment", Decimal("150.00"), D, "A", None, key="BQ/1")
    found = [(x.invoice_id, str(x.amount)) for x in allocate([b, pay, a])]
    assert found == [(7, "100.00"), (3, "50.00")]
