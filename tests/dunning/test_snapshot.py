"""The planner's inputs read in one query agree with open_items, row for row.

snapshot() reads the open invoices through open_items.chase_rows (one query,
invoice ids included, cents and dates converted once) instead of open_items()
and an id look-up per 500 keys; these tests hold the two to the same figures
on a seeded store with partial payments, credit notes, bank money pending
(inside and outside the window, over and under what is open), closed and
future invoices, on each backend.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, insert, select, update

from sageconnect.dunning.interest import Rates
from sageconnect.dunning.message import Sender
from sageconnect.dunning.planner import Company, Done, Item, Plan, plan
from sageconnect.dunning.settings import DunningConfig
from sageconnect.dunning.snapshot import Snapshot, snapshot, snapshots
from sageconnect.store.open_items import open_items
from sageconnect.store.tables import (
    allocations,
    bank_lines,
    bank_matches,
    companies,
    contacts,
    customers,
    invoices,
    pauses,
    payments,
    reminder_items,
    reminders,
)

AS_OF = dt.date(2026, 11, 24)
CONFIG = DunningConfig.model_validate(
    {
        "scenarios": {
            "standard": {
                "steps": [
                    {
                        "id": "courtesy",
                        "days": -5,
                        "channels": ["email"],
                        "template": "courtesy",
                    },
                    {
                        "id": "first",
                        "days": 1,
                        "channels": ["email"],
                        "template": "first_reminder",
                    },
                    {
                        "id": "formal",
                        "days": 30,
                        "channels": ["letter"],
                        "template": "formal_notice",
                        "tone": "formal",
                        "claim_interest": True,
                        "claim_indemnity": True,
                    },
                ]
            }
        },
        "channels": {
            "email": {"kind": "folder", "path": "out"},
            "letter": {"kind": "folder", "path": "out"},
        },
    }
)
COMPANY = Company(code="co1", sender=Sender(name="Co"))
RATES = Rates.build()
NOW = dt.datetime(2026, 11, 24, 6, tzinfo=dt.UTC)
PENDING_DAYS = 10


def cents(value: int) -> Decimal:
    return (Decimal(value) / 100).quantize(Decimal("0.01"))


def seeded_store(conn: Connection, seed: int) -> int:  # noqa: C901 - one store
    """Two companies (the second a decoy), customers with every kind of item."""
    rng = random.Random(seed)  # noqa: S311 - seeded test data
    ids = iter(range(1, 10_000))
    for company in (1, 2):
        conn.execute(
            insert(companies).values(
                id=company, code=f"co{company}", name="Co", currency="EUR"
            )
        )
    life = {"first_run_id": 1, "changed_run_id": 1}
    customer_ids: list[tuple[int, int]] = []
    for n in range(1, 13):
        company = 1 if n <= 10 else 2
        conn.execute(
            insert(customers).values(
                id=n,
                company_id=company,
                code=f"C{n:02d}",
                name=f"Client {n}",
                account=f"411C{n:02d}",
                language="fr",
                dunning_excluded=False,
                **life,
            )
        )
        customer_ids.append((n, company))
        for k in range(rng.randint(0, 3)):
            conn.execute(
                insert(contacts).values(
                    company_id=company,
                    customer_id=n,
                    key=f"K{n}-{k}",
                    name=f"Contact {n}-{k}",
                    role=rng.choice(("Comptabilité", "Direction", "")),
                    email=rng.choice((None, "", f"c{n}{k}@example.com")),
                    phone=rng.choice((None, "0102030405")),
                    closed_run_id=rng.choice((None, None, 2)),
                    **life,
                )
            )
    bank_line = 0
    for customer, company in customer_ids:
        for _ in range(rng.randint(0, 12)):
            invoice = next(ids)
            credit = rng.random() < 0.15
            amount = rng.randint(100, 500_000) * (-1 if credit else 1)
            issued = AS_OF + dt.timedelta(days=rng.randint(-120, 3))
            conn.execute(
                insert(invoices).values(
                    id=invoice,
                    company_id=company,
                    customer_id=customer,
                    key=f"VE/{invoice}",
                    number=f"FA{invoice:05d}",
                    kind="credit_note" if credit else rng.choice(("invoice", "debit")),
                    issued=issued,
                    due=issued + dt.timedelta(days=rng.choice((0, 30, 45))),
                    due_source="source",
                    amount=cents(amount),
                    currency="EUR",
                    journal="VE",
                    label="",
                    closed_run_id=2 if rng.random() < 0.05 else None,
                    **life,
                )
            )
            for _ in range(rng.choice((0, 0, 1, 2))):  # payments allocated to it
                paid = rng.randint(1, abs(amount))
                pay = next(ids)
                on = AS_OF + dt.timedelta(days=rng.randint(-60, 5))
                conn.execute(
                    insert(payments).values(
                        id=pay,
                        company_id=company,
                        customer_id=customer,
                        key=f"BQ/{pay}",
                        kind="receipt",
                        received=on,
                        amount=cents(paid),
                        currency="EUR",
                        journal="BQ",
                        reference="",
                        label="",
                        **life,
                    )
                )
                conn.execute(
                    insert(allocations).values(
                        company_id=company,
                        customer_id=customer,
                        invoice_id=invoice,
                        payment_id=pay,
                        amount=cents(paid),
                        allocated_on=on,
                        origin=rng.choice(("lettering", "match:amount")),
                    )
                )
            if not credit and rng.random() < 0.3:
                bank_line += 1
                conn.execute(
                    insert(bank_lines).values(
                        id=bank_line,
                        company_id=company,
                        key=f"B{bank_line}",
                        source="f",
                        line=bank_line,
                        account="FR76",
                        booked=AS_OF - dt.timedelta(days=rng.randint(0, 15)),
                        amount=cents(amount),
                        currency="EUR",
                        payer_name="",
                        payer_account="",
                        remittance="",
                        structured_ref="",
                        end_to_end_id="",
                        bank_ref="",
                        label="",
                        booked_status="BOOK",
                        reversal=False,
                        status=rng.choice(("matched", "partial", "ignored")),
                        reason="",
                        first_run_id=1,
                    )
                )
                conn.execute(
                    insert(bank_matches).values(
                        company_id=company,
                        bank_line_id=bank_line,
                        invoice_id=invoice,
                        amount=cents(rng.randint(1, amount * 2)),
                        method="reference",
                    )
                )
    notes = conn.execute(
        select(invoices.c.id, invoices.c.customer_id, invoices.c.company_id).where(
            invoices.c.kind == "credit_note"
        )
    ).all()
    targets = conn.execute(
        select(invoices.c.id, invoices.c.customer_id).where(
            invoices.c.kind != "credit_note"
        )
    ).all()
    for note, customer, company in notes:  # credit notes lettered with an invoice
        mine = [i for i, c in targets if c == customer]
        if mine and rng.random() < 0.7:
            conn.execute(
                insert(allocations).values(
                    company_id=company,
                    customer_id=customer,
                    invoice_id=rng.choice(mine),
                    credit_note_id=note,
                    amount=cents(rng.randint(1, 50_000)),
                    allocated_on=AS_OF - dt.timedelta(days=rng.randint(-3, 30)),
                    origin="lettering",
                )
            )
    for n, (invoice, customer) in enumerate(targets[::3], 1):  # history
        conn.execute(
            insert(reminders).values(
                id=n,
                key=f"R{n}",
                company_id=1 if customer <= 10 else 2,
                customer_id=customer,
                scenario="standard",
                step="first",
                channel="email",
                planned_on=AS_OF - dt.timedelta(days=n % 20),
                state=rng.choice(("sent", "claimed", "uncertain", "failed")),
                total=Decimal("1.00"),
                payload="{}",
                payload_hash="",
                attempts=1,
            )
        )
        conn.execute(
            insert(reminder_items).values(
                reminder_id=n,
                invoice_id=invoice,
                step="first",
                channel="email",
                open=Decimal("1.00"),
            )
        )
    return 1


def expected_items(conn: Connection, customer: str | None) -> list[Item]:
    """The items as snapshot() built them before: open_items, then the ids."""
    owed = [
        o
        for o in open_items(
            conn, 1, AS_OF, customer=customer, pending_days=PENDING_DAYS
        )
        if o.kind != "payment" and o.open > 0 and o.due is not None
    ]
    ids = dict(
        conn.execute(
            select(invoices.c.key, invoices.c.id).where(invoices.c.company_id == 1)
        ).all()
    )
    return [
        Item(
            invoice_id=ids[o.key],
            key=o.key,
            customer=o.customer,
            number=o.number,
            issued=o.issued,
            due=o.due or o.issued,
            amount=o.amount,
            open=o.open,
            to_chase=o.to_chase,
        )
        for o in owed
    ]


def expected_contacts(engine: Engine) -> dict[str, tuple[str, str, str]]:
    """Per customer, the open contact with an accounting role and an e-mail
    first (then any with an e-mail, then the first by key), else the customer's
    own e-mail and phone."""
    with engine.connect() as conn:
        people = conn.execute(
            select(
                contacts.c.customer_id,
                contacts.c.name,
                contacts.c.role,
                contacts.c.email,
                contacts.c.phone,
            )
            .where(contacts.c.closed_run_id.is_(None))
            .order_by(contacts.c.key)
        ).all()
        own = conn.execute(
            select(customers.c.id, customers.c.code, customers.c.email).where(
                customers.c.company_id == 1
            )
        ).all()
    found: dict[str, tuple[str, str, str]] = {}
    for id_, code, email in own:
        mine = [p for p in people if p.customer_id == id_]
        ranked = sorted(
            mine,
            key=lambda p: (
                (0 if "compta" in p.role.lower() else 1) + (0 if p.email else 2)
            ),
        )  # stable: the first by key among equals
        if ranked:
            best = ranked[0]
            found[code] = (best.name, best.email or email or "", best.phone or "")
        else:
            found[code] = ("", email or "", "")
    return found


def exact(item: Item) -> tuple[Any, ...]:
    """Every field, amounts with their exponent (0.00 is not 0)."""
    return (
        item.invoice_id,
        item.key,
        item.customer,
        item.number,
        item.issued,
        item.due,
        *(str(m) for m in (item.amount, item.open, item.to_chase)),
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_snapshot_lists_the_items_open_items_lists(
    engine: Engine, seed: int
) -> None:
    with engine.begin() as conn:
        company = seeded_store(conn, seed)
    with engine.connect() as conn:
        for customer in (None, "C01", "C04", "C07", "C11", "C99"):
            want = sorted(map(exact, expected_items(conn, customer)))
            snap = snapshot(
                conn, company, AS_OF, pending_days=PENDING_DAYS, customer=customer
            )
            assert sorted(map(exact, snap.items)) == want, customer
            assert customer != "C01" or want  # the seed gives C01 open items
            assert all(type(i.due) is dt.date for i in snap.items)


def test_the_history_and_contacts_are_read_as_before(engine: Engine) -> None:
    with engine.begin() as conn:
        company = seeded_store(conn, 4)
    with engine.connect() as conn:
        snap = snapshot(conn, company, AS_OF, pending_days=PENDING_DAYS)
        one = snapshot(conn, company, AS_OF, pending_days=PENDING_DAYS, customer="C03")
        rows = conn.execute(
            select(
                reminder_items.c.invoice_id,
                reminders.c.planned_on,
                reminders.c.state,
                reminders.c.company_id,
                reminders.c.customer_id,
            ).join(reminders, reminders.c.id == reminder_items.c.reminder_id)
        ).all()
    sent = ("claimed", "sent", "uncertain")
    assert sorted(snap.done, key=str) == sorted(
        (
            Done(i, "first", "email", on)
            for i, on, state, co, _ in rows
            if co == company and state in sent
        ),
        key=str,
    )
    assert sorted(one.done, key=str) == sorted(
        (
            Done(i, "first", "email", on)
            for i, on, state, co, c in rows
            if co == company and state in sent and c == 3
        ),
        key=str,
    )
    assert all(type(d.on) is dt.date for d in snap.done)
    chosen = {d.code: (d.contact_name, d.email, d.phone) for d in snap.debtors}
    assert chosen == expected_contacts(engine), chosen
    assert [d.code for d in one.debtors] == ["C03"]
    assert sorted(d.code for d in snap.debtors) == [f"C{n:02d}" for n in range(1, 11)]


def _with_pauses(conn: Connection) -> None:
    """A dispute on one invoice, a hold on a whole customer, a promise resolved
    (not read), and a pause of the other company."""
    first = conn.execute(
        select(invoices.c.id).where(invoices.c.customer_id == 2).limit(1)
    ).scalar()
    for customer, invoice, kind, resolved in [
        (2, first, "dispute", None),
        (5, None, "hold", None),
        (6, None, "promise", NOW),
        (11, None, "hold", None),
    ]:
        conn.execute(
            insert(pauses).values(
                company_id=1 if customer <= 10 else 2,
                customer_id=customer,
                invoice_id=invoice,
                kind=kind,
                reason=f"{kind} {customer}",
                until=AS_OF + dt.timedelta(days=5) if kind == "promise" else None,
                created_by="test",
                created_at=NOW,
                origin="cli",
                resolved_at=resolved,
            )
        )


@pytest.mark.parametrize("size", [1, 3, 4, 10])
def test_the_snapshot_read_in_parts_is_the_whole_snapshot(
    engine: Engine, size: int
) -> None:
    with engine.begin() as conn:
        company = seeded_store(conn, 5)
        _with_pauses(conn)
    with engine.connect() as conn:
        whole = snapshot(conn, company, AS_OF, pending_days=PENDING_DAYS)
        parts = list(
            snapshots(conn, company, AS_OF, pending_days=PENDING_DAYS, size=size)
        )
        owner = dict(
            conn.execute(
                select(invoices.c.id, customers.c.code).join(
                    customers, customers.c.id == invoices.c.customer_id
                )
            ).all()
        )
    assert whole.items  # the seed has items, history and pauses
    assert whole.done
    assert whole.pauses
    assert [len(p.debtors) for p in parts[:-1]] == [size] * (len(parts) - 1)
    for part in parts:  # each part holds its own customers' rows, and only those
        codes = {d.code for d in part.debtors}
        assert {i.customer for i in part.items} <= codes
        assert {p.customer for p in part.pauses} <= codes
        assert {owner[d.invoice_id] for d in part.done} <= codes  # history too
    assert sorted(map(exact, (i for p in parts for i in p.items))) == sorted(
        map(exact, whole.items)
    )
    for field in ("debtors", "pauses", "done"):
        got = sorted((x for p in parts for x in getattr(p, field)), key=repr)
        assert got == sorted(getattr(whole, field), key=repr), field


def test_a_plan_made_part_by_part_is_the_whole_plan(engine: Engine) -> None:
    """What `dunning plan` and each send cycle do, against one plan of all."""
    with engine.begin() as conn:
        company = seeded_store(conn, 6)
        _with_pauses(conn)

    def planned(snap: Snapshot) -> Plan:
        return plan(
            company=COMPANY,
            debtors=snap.debtors,
            items=snap.items,
            pauses=snap.pauses,
            done=snap.done,
            settings=CONFIG,
            rates=RATES,
            as_of=AS_OF,
        )

    with engine.connect() as conn:
        whole = planned(snapshot(conn, company, AS_OF, pending_days=PENDING_DAYS))
        parts = [
            planned(part)
            for part in snapshots(
                conn, company, AS_OF, pending_days=PENDING_DAYS, size=3
            )
        ]
    assert whole.reminders
    assert whole.skipped
    # in the same order: parts are cut in the order of the customers' codes
    assert [p.notice for part in parts for p in part.reminders] == [
        p.notice for p in whole.reminders
    ]
    assert [s for part in parts for s in part.skipped] == whole.skipped


@pytest.mark.filterwarnings("error::ResourceWarning")
def test_parts_of_a_company_whose_customers_are_all_closed(engine: Engine) -> None:
    """Their items stay in the store; nothing to plan, no cursor left open."""
    with engine.begin() as conn:
        company = seeded_store(conn, 7)
        conn.execute(
            update(customers)
            .where(customers.c.company_id == company)
            .values(closed_run_id=1)
        )
    with engine.connect() as conn:
        assert snapshot(conn, company, AS_OF, pending_days=PENDING_DAYS).items
        parts = snapshots(conn, company, AS_OF, pending_days=PENDING_DAYS, size=3)
        assert list(parts) == []


@pytest.mark.filterwarnings("error::ResourceWarning")
def test_parts_left_half_read_close_their_cursors(engine: Engine) -> None:
    with engine.begin() as conn:
        company = seeded_store(conn, 8)
    with engine.connect() as conn:
        parts = snapshots(conn, company, AS_OF, pending_days=PENDING_DAYS, size=2)
        first = next(parts)
        parts.close()  # a cycle stopped after one part
        assert first.debtors
        again = list(snapshots(conn, company, AS_OF, pending_days=PENDING_DAYS, size=2))
    assert again[0].debtors == first.debtors
