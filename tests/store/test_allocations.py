"""Lettering allocations computed in the store equal the reference ``allocate``.

``store.allocations.refresh`` settles lettering groups in SQL; each example
writes generated lettered items (several customers, invoices, credit notes,
payments, zero amounts, closed and unlettered rows, same-day ties broken by
keys that sort differently under a locale) into a fresh company, refreshes some
customers and checks the allocations against ``ledger.lettering.allocate`` run
on the same items, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, Engine, Table, insert, select, text

from sageconnect.ledger.lettering import Item, allocate
from sageconnect.model.money import from_cents
from sageconnect.store.allocations import refresh, remember, start, touch
from sageconnect.store.sync import ensure_company
from sageconnect.store.tables import allocations, customers, invoices, payments

D = dt.date(2026, 3, 1)
PROPERTY = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@dataclass(frozen=True)
class Row:
    """One generated ledger item; amount in signed cents as the store keeps it."""

    customer: int  # index among the example's customers
    payment: bool
    cents: int
    lettering: str | None
    day: int
    lettered_on: int | None
    closed: bool
    prefix: str  # of the key: "B" < "a" < "é" as str, not under a locale


AMOUNTS = st.one_of(
    st.sampled_from([0, 100, 250, -250, 500, 1000, -1000]),
    st.integers(1, 10**9),
    st.integers(-(10**6), 10**6),
)
KEYS = st.sampled_from(["B", "a", "é", "_", "a-", "Z9"])


@st.composite
def groups(draw: st.DrawFn) -> list[Row]:
    """Items of one customer lettered with one code (codes may repeat: groups merge)."""
    customer = draw(st.sampled_from([0, 0, 1, 2]))
    code = draw(st.sampled_from(["A", "a", "B", "é"]))
    return draw(
        st.lists(
            st.builds(
                Row,
                customer=st.just(customer),
                payment=st.booleans(),
                cents=AMOUNTS,
                lettering=st.just(code),
                day=st.integers(0, 3),
                lettered_on=st.none() | st.integers(-2, 6),
                closed=st.sampled_from([False, False, False, True]),
                prefix=KEYS,
            ),
            min_size=2,
            max_size=8,
        )
    )


unlettered = st.builds(
    Row,
    customer=st.integers(0, 2),
    payment=st.booleans(),
    cents=AMOUNTS,
    lettering=st.none(),
    day=st.integers(0, 3),
    lettered_on=st.none(),
    closed=st.booleans(),
    prefix=KEYS,
)
ledgers = st.tuples(
    st.lists(groups(), max_size=6), st.lists(unlettered, max_size=3)
).map(lambda parts: [row for group in parts[0] for row in group] + parts[1])
SALE = Row(
    0,
    payment=False,
    cents=10000,
    lettering="A",
    day=0,
    lettered_on=None,
    closed=False,
    prefix="K",
)  # an invoice of 100.00 lettered A, on day 0
Alloc = tuple[int, int, int | None, int | None, Decimal, dt.date, str | None]


def _insert(conn: Connection, table: Table, **values: object) -> int:
    """Insert one row; its id."""
    return int(
        conn.execute(insert(table).values(**values).returning(table.c.id)).one()[0]
    )


def _customers(conn: Connection, company: int, n: int) -> list[int]:
    return [
        _insert(
            conn,
            customers,
            company_id=company,
            code=f"C{n}",
            name="Client",
            account="411",
            language="fr",
            dunning_excluded=False,
            first_run_id=1,
            changed_run_id=1,
        )
        for n in range(n)
    ]


def _write(conn: Connection, company: int, ids: list[int], n: int, row: Row) -> Item:
    """Store one generated row; return it as ``allocate`` sees it."""
    day = D + dt.timedelta(days=row.day)
    lettered = None if row.lettered_on is None else D + dt.timedelta(row.lettered_on)
    key = f"{row.prefix}{n}"
    common = {
        "company_id": company,
        "customer_id": ids[row.customer],
        "key": key,
        "amount": from_cents(row.cents),
        "currency": "EUR",
        "journal": "J",
        "label": "",
        "lettering": row.lettering,
        "lettered_on": lettered,
        "first_run_id": 1,
        "changed_run_id": 1,
        "closed_run_id": 1 if row.closed else None,
    }
    if row.payment:
        table, values = payments, {"kind": "receipt", "received": day, "reference": ""}
    else:
        table = invoices
        values = {"number": key, "kind": "invoice", "issued": day, "due": day}
        values["due_source"] = "source"
    return _item(_insert(conn, table, **common, **values), row, key)


def _item(new: int, row: Row, key: str) -> Item:
    """The stored row as ``allocate`` sees it."""
    day = D + dt.timedelta(days=row.day)
    lettered = None if row.lettered_on is None else D + dt.timedelta(row.lettered_on)
    side = "payment" if row.payment else "invoice" if row.cents > 0 else "credit_note"
    amount = abs(from_cents(row.cents))
    return Item(new, side, amount, day, row.lettering or "", lettered, key)


EDITS = st.lists(
    st.tuples(
        st.integers(0, 60),
        st.sampled_from(["code", "uncode", "close", "reopen", "amount", "day", "move"]),
        st.sampled_from(["A", "a", "B", "é"]),
        AMOUNTS,
    ),
    max_size=5,
)


def _edit(
    conn: Connection,
    ids: list[int],
    row: Row,
    item: Item,
    edit: tuple[str, str, int],
) -> Row:
    """Change one stored item as a later run's merge would (changed_run_id 2,
    what it overwrites remembered first); the new row."""
    what, code, cents = edit
    new = {
        "code": replace(row, lettering=code),
        "uncode": replace(row, lettering=None, lettered_on=None),
        "close": replace(row, closed=True),
        "reopen": replace(row, closed=False),
        "amount": replace(row, cents=cents if row.payment else row.cents + cents),
        "day": replace(row, day=(row.day + 1) % 4),
        "move": replace(row, customer=(row.customer + 1) % len(ids)),
    }[what]
    if not new.payment and (new.cents > 0) != (row.cents > 0):
        new = replace(new, cents=row.cents)  # an invoice stays on its side
    table = payments if row.payment else invoices
    stored = table.c
    was_customer, was_code = conn.execute(
        select(stored.customer_id, stored.lettering).where(stored.id == item.id)
    ).one()
    conn.exec_driver_sql(
        "DROP TABLE IF EXISTS edit"
    )  # the merge's hits, as it makes them
    conn.exec_driver_sql(
        "CREATE TEMPORARY TABLE edit (row_id INTEGER, customer_ref INTEGER,"
        " lettering TEXT, was_customer_id INTEGER, was_lettering TEXT)"
    )
    conn.execute(
        text("INSERT INTO edit VALUES (:id, :customer, :code, :was, :was_code)"),
        {
            "id": item.id,
            "customer": ids[new.customer],
            "code": new.lettering,
            "was": was_customer,
            "was_code": was_code,
        },
    )
    remember(conn, "edit")
    day = D + dt.timedelta(days=new.day)
    values = {
        "amount": from_cents(new.cents),
        "lettering": new.lettering,
        "lettered_on": None
        if new.lettered_on is None
        else D + dt.timedelta(new.lettered_on),
        "closed_run_id": 2 if new.closed else None,
        "changed_run_id": 2,
        "customer_id": ids[new.customer],
        ("received" if row.payment else "issued"): day,
    }
    conn.execute(table.update().where(table.c.id == item.id).values(**values))
    return new


def _stale(conn: Connection, company: int, customer: int) -> None:
    """An unlettered invoice and payment, a lettering allocation between them that
    no longer holds, and a matched one that refresh must leave alone."""
    common = {
        "company_id": company,
        "customer_id": customer,
        "amount": Decimal("9.99"),
        "currency": "EUR",
        "journal": "J",
        "label": "",
        "first_run_id": 1,
        "changed_run_id": 1,
    }
    inv = _insert(
        conn,
        invoices,
        **common,
        key=f"stale-{customer}",
        number="S",
        kind="invoice",
        issued=D,
        due=D,
        due_source="source",
    )
    pay = _insert(
        conn,
        payments,
        **common,
        key=f"stale-{customer}",
        kind="receipt",
        received=D,
        reference="",
    )
    for origin in ("lettering", "match:amount"):
        conn.execute(
            insert(allocations).values(
                company_id=company,
                customer_id=customer,
                invoice_id=inv,
                payment_id=pay,
                amount=Decimal("1.00"),
                allocated_on=D,
                origin=origin,
                lettering="old" if origin == "lettering" else None,
            )
        )


def _stored(conn: Connection, company: int) -> list[Alloc]:
    a = allocations.c
    query = select(
        a.customer_id,
        a.invoice_id,
        a.payment_id,
        a.credit_note_id,
        a.amount,
        a.allocated_on,
        a.lettering,
    ).where(a.company_id == company, a.origin == "lettering")
    return sorted((tuple(r) for r in conn.execute(query)), key=repr)


def _expected(customer: int, items: Sequence[Item]) -> list[Alloc]:
    return [
        (
            customer,
            a.invoice_id,
            a.credit_id if a.credit_side == "payment" else None,
            None if a.credit_side == "payment" else a.credit_id,
            a.amount,
            a.allocated_on,
            a.lettering,
        )
        for a in allocate(items)
    ]


@PROPERTY
@given(ledger=ledgers, kept=st.sets(st.integers(0, 2), max_size=1))
def test_refresh_allocates_as_the_reference_does(
    engine: Engine, ledger: list[Row], kept: set[int]
) -> None:
    """The store's lettering allocations of the refreshed customers are exactly
    those ``allocate`` makes of their open lettered items; the other customers
    keep theirs, and allocations of another origin stay."""
    company = ensure_company(engine, f"a{uuid.uuid4().hex[:12]}", "A", "EUR")
    with engine.begin() as conn:
        ids = _customers(conn, company, 3)
        for customer in ids:
            _stale(conn, company, customer)
        items: dict[int, list[Item]] = {c: [] for c in ids}
        for n, row in enumerate(ledger):
            item = _write(conn, company, ids, n, row)
            if row.lettering is not None and not row.closed:
                items[ids[row.customer]].append(item)
        before = _stored(conn, company)
        chosen = [c for i, c in enumerate(ids) if i not in kept]
        count = refresh(conn, company, chosen)
        after = _stored(conn, company)
        matched = conn.execute(
            select(allocations.c.id).where(
                allocations.c.company_id == company,
                allocations.c.origin == "match:amount",
            )
        ).all()
    expected = sorted(
        [row for row in before if row[0] not in chosen]
        + [a for c in chosen for a in _expected(c, items[c])],
        key=repr,
    )
    assert after == expected
    assert count == sum(1 for row in after if row[0] in chosen)
    assert len(matched) == len(ids)


@PROPERTY
@given(ledger=ledgers, edits=EDITS)
def test_refresh_of_the_groups_a_run_touched_equals_a_whole_refresh(
    engine: Engine,
    ledger: list[Row],
    edits: list[tuple[int, str, str, int]],
) -> None:
    """After a run changed a few items (code set, removed or changed, item closed
    or reopened, amount or day changed, item moved to another customer), refreshing only the lettering groups
    the run touched leaves the allocations ``allocate`` makes of every
    customer's open lettered items, as a refresh of everything would."""
    company = ensure_company(engine, f"g{uuid.uuid4().hex[:12]}", "G", "EUR")
    with engine.begin() as conn:
        ids = _customers(conn, company, 3)
        for customer in ids:
            _stale(conn, company, customer)
        written = [_write(conn, company, ids, n, row) for n, row in enumerate(ledger)]
        refresh(conn, company, ids)  # what the first run left
        start(conn)
        before: set[int] = set()  # the customers of the edited items, before
        for index, what, code, cents in edits if ledger else []:
            n = index % len(ledger)
            before.add(ids[ledger[n].customer])
            ledger[n] = _edit(conn, ids, ledger[n], written[n], (what, code, cents))
        touched = touch(conn, company, 2, whole=2)
        assert touched.groups
        count = refresh(conn, company)
        after = _stored(conn, company)
    items: dict[int, list[Item]] = {c: [] for c in ids}
    for n, row in enumerate(ledger):
        if row.lettering is not None and not row.closed:
            items[ids[row.customer]].append(
                _item(written[n].id, row, f"{row.prefix}{n}")
            )
    expected = sorted([a for c in ids for a in _expected(c, items[c])], key=repr)
    assert after == expected
    now = (
        {ids[ledger[i % len(ledger)].customer] for i, *_ in edits} if ledger else set()
    )
    assert now <= set(touched.customers) <= now | before
    assert count <= len(after)


@pytest.mark.parametrize("whole", [2, 0], ids=["groups", "whole customers"])
def test_an_item_that_leaves_a_group_takes_its_date_away(
    engine: Engine, whole: float
) -> None:
    """A group's allocations are dated by its latest member, zero amounts too:
    when that member moves to another customer, the group left behind is
    refreshed and its allocation dated anew, though the item had none; whether
    the run refreshes groups or (a large run) whole customers."""
    company = ensure_company(engine, f"m{uuid.uuid4().hex[:12]}", "M", "EUR")
    sale = replace(SALE, prefix="F")
    with engine.begin() as conn:
        ids = _customers(conn, company, 2)
        _write(conn, company, ids, 1, sale)
        _write(conn, company, ids, 2, replace(sale, payment=True, prefix="P"))
        late = replace(sale, cents=0, lettered_on=5, prefix="Z")
        written = _write(conn, company, ids, 3, late)
        refresh(conn, company, ids)
        assert [a[5] for a in _stored(conn, company)] == [D + dt.timedelta(5)]
        start(conn)
        _edit(conn, ids, late, written, ("move", "A", 0))
        touched = touch(conn, company, 2, whole=whole)
        assert touched.groups == (whole > 1)
        refresh(conn, company, None if touched.groups else touched.customers)
        assert [a[5] for a in _stored(conn, company)] == [D]


def test_refresh_of_no_customer_changes_nothing(engine: Engine) -> None:
    """A run that touched no customer leaves the allocations as they were."""
    company = ensure_company(engine, "none", "N", "EUR")
    with engine.begin() as conn:
        (customer,) = _customers(conn, company, 1)
        _stale(conn, company, customer)
        before = _stored(conn, company)
        assert refresh(conn, company, []) == 0
        assert _stored(conn, company) == before


def test_a_credit_note_settles_before_a_same_day_payment(engine: Engine) -> None:
    """Among credits of one day, credit notes come before payments, whatever
    their keys: the payment gets what the credit note leaves."""
    company = ensure_company(engine, "order", "O", "EUR")
    day = SALE
    with engine.begin() as conn:
        ids = _customers(conn, company, 1)
        invoice = _write(conn, company, ids, 1, day)
        paid = _write(conn, company, ids, 2, replace(day, payment=True, prefix="A"))
        note = _write(conn, company, ids, 3, replace(day, cents=-6000, prefix="Z"))
        assert refresh(conn, company, ids) == 2
        found = _stored(conn, company)
    assert found == sorted(
        [
            (ids[0], invoice.id, None, note.id, Decimal("60.00"), D, "A"),
            (ids[0], invoice.id, paid.id, None, Decimal("40.00"), D, "A"),
        ],
        key=repr,
    )


def test_refresh_leaves_the_store_cache_as_it_was(store: Engine) -> None:
    """The smaller SQLite cache the refresh sorts with is the store's again after."""
    company = ensure_company(store, "cache", "C", "EUR")
    with store.begin() as conn:
        ids = _customers(conn, company, 1)
        before = conn.exec_driver_sql("PRAGMA cache_size").scalar()
        refresh(conn, company, ids)
        assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == before == -16384
