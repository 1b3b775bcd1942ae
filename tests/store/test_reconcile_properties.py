"""Reconciliation through the real store, on generated ledgers.

Each example syncs a generated ledger (1-4 customers; invoices, credit notes and
payments, lettered in balanced, partial or mixed groups or not at all; labels
that sometimes name an invoice) into a fresh company, then checks what a credit
manager relies on: nothing is allocated beyond its amount, balances add up,
the result does not depend on read order, and the accountant's lettering wins.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from sageconnect.clock import FixedClock
from sageconnect.model.records import (
    Customer,
    DocKind,
    DueSource,
    Invoice,
    Payment,
    PaymentKind,
    Record,
)
from sageconnect.store.open_items import open_items
from sageconnect.store.queries import balances
from sageconnect.store.sync import SyncReport, ensure_company, sync
from sageconnect.store.tables import allocations, invoices, payments

JAN_1 = dt.date(2026, 1, 1)
DEC_31 = dt.date(2026, 12, 31)
AS_OF = dt.date(2027, 1, 1)  # after every generated date
CENT = Decimal("0.01")

PROPERTY = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


class _ListReading:
    complete = True

    def __init__(self, records: list[Record]) -> None:
        self._records = records

    def records(self) -> Iterator[Record]:
        return iter(self._records)

    def checkpoint(self) -> str:
        return "list"


class _ListMapper:
    """A mapper over a fixed list: each read is a complete snapshot."""

    name = "list"

    def __init__(self, records: list[Record]) -> None:
        self._records = records

    def read(self, checkpoint: str | None, *, full: bool) -> _ListReading:
        return _ListReading(self._records)


@dataclass(frozen=True, slots=True)
class Ledger:
    customers: list[Customer]
    invoices: list[Invoice]  # credit notes included, with a negative amount
    payments: list[Payment]

    def records(self) -> list[Record]:
        return [*self.customers, *self.invoices, *self.payments]


# --- generation ---------------------------------------------------------------

# any day of 2026, often one of a few, so that items of one day meet in a group
days = st.one_of(
    st.sampled_from([dt.date(2026, 3, 31), dt.date(2026, 6, 30)]),
    st.integers(0, 364).map(lambda n: JAN_1 + dt.timedelta(days=n)),
)
# a few round amounts, so that exact-amount matches and balanced groups happen
money = st.one_of(
    st.sampled_from([10000, 25000, 120000]),
    st.integers(1, 500_000),
).map(lambda c: (Decimal(c) * CENT).quantize(CENT))


class _Builder:
    """Draws one ledger's documents; numbers and keys are unique in the company."""

    def __init__(self, draw: st.DrawFn) -> None:
        self.draw = draw
        self.customers: list[Customer] = []
        self.docs: list[Invoice] = []
        self.pays: list[Payment] = []
        self.numbers: list[str] = []  # every invoice number so far, any customer

    def lettered_on(self, lettering: str | None) -> dt.date | None:
        return self.draw(st.none() | days) if lettering else None

    def invoice(self, code: str, amount: Decimal, lettering: str | None) -> None:
        number = f"FA-{len(self.docs) + 1:04d}"
        issued = self.draw(days)
        terms = dt.timedelta(days=self.draw(st.sampled_from([0, 30, 60])))
        self.numbers.append(number)
        self.docs.append(
            Invoice(
                key=f"VE/{number}",
                customer=code,
                number=number,
                kind=DocKind.INVOICE,
                issued=issued,
                due=min(issued + terms, DEC_31),
                due_source=DueSource.SOURCE,
                amount=amount,
                label=f"Facture {number}",
                lettering=lettering,
                lettered_on=self.lettered_on(lettering),
            )
        )

    def credit_note(self, code: str, amount: Decimal, lettering: str | None) -> None:
        number = f"AV-{len(self.docs) + 1:04d}"
        issued = self.draw(days)
        cites = self.draw(st.none() | st.sampled_from(self.numbers or [""]))
        self.docs.append(
            Invoice(
                key=f"VE/{number}",
                customer=code,
                number=number,
                kind=DocKind.CREDIT_NOTE,
                issued=issued,
                due=issued,
                due_source=DueSource.SOURCE,
                amount=-amount,
                label=f"Avoir sur {cites}" if cites else "Avoir",
                lettering=lettering,
                lettered_on=self.lettered_on(lettering),
            )
        )

    def payment(self, code: str, amount: Decimal, lettering: str | None) -> None:
        own = [d.number for d in self.docs if d.customer == code and d.amount > 0]
        others = [n for n in self.numbers if n not in own]
        texts = ["", "Virement", "VIR SEPA"]
        texts += [f"Règlement {n}" for n in own]
        texts += [f"VIR {a}/{b}" for a, b in itertools.pairwise(own)]
        texts += [f"Règlement {n}" for n in others]  # another customer's invoice
        n = len(self.pays) + 1
        self.pays.append(
            Payment(
                key=f"BQ/{n}",
                customer=code,
                kind=PaymentKind.RECEIPT,
                received=self.draw(days),
                amount=amount,
                reference=self.draw(st.sampled_from(["", f"REM{n:03d}", *own[:1]])),
                label=self.draw(st.sampled_from(texts)),
                lettering=lettering,
                lettered_on=self.lettered_on(lettering),
            )
        )

    def balanced_group(self, code: str, group: str) -> None:
        """Invoices, maybe a credit note, then one or two payments for the rest."""
        amounts = self.draw(st.lists(money, min_size=1, max_size=3))
        for amount in amounts:
            self.invoice(code, amount, group)
        total = sum(amounts, Decimal(0))
        if total > CENT and self.draw(st.booleans()):
            note = self.part_of(total)
            self.credit_note(code, note, group)
            total -= note
        if total > CENT and self.draw(st.booleans()):
            first = self.part_of(total)
            self.payment(code, first, group)
            total -= first
        self.payment(code, total, group)

    def part_of(self, total: Decimal) -> Decimal:
        """Some amount strictly between 0 and ``total``."""
        return Decimal(self.draw(st.integers(1, int(total / CENT) - 1))) * CENT

    def customer(self, code: str) -> None:
        self.customers.append(Customer(code=code, name=f"Client {code}"))
        # the same group codes at every customer: lettering is per account
        for g in range(self.draw(st.integers(0, 2))):
            self.balanced_group(code, f"B{g + 1}")
        # loose items: unlettered, or in groups that rarely balance (partial, mixed)
        codes = st.sampled_from([None, None, "P1", "P2"])
        for amount in self.draw(st.lists(money, max_size=4)):
            self.invoice(code, amount, self.draw(codes))
        for amount in self.draw(st.lists(money, max_size=2)):
            self.credit_note(code, amount, self.draw(codes))
        for amount in self.draw(st.lists(money, max_size=4)):
            self.payment(code, amount, self.draw(codes))


@st.composite
def ledgers(draw: st.DrawFn) -> Ledger:
    """1-4 customers, each with balanced groups, then loose items."""
    builder = _Builder(draw)
    for c in range(draw(st.integers(1, 4))):
        builder.customer(f"C{c + 1}")
    return Ledger(builder.customers, builder.docs, builder.pays)


@dataclass(frozen=True, slots=True)
class LetteringCase:
    """A generated ledger, plus an invoice and a payment naming it, unlettered."""

    ledger: Ledger
    target: Invoice
    payer: Payment


@st.composite
def lettering_cases(draw: st.DrawFn) -> LetteringCase:
    ledger = draw(ledgers())
    code = ledger.customers[0].code
    issued = draw(days)
    target = Invoice(
        key="VE/FA-9999",
        customer=code,
        number="FA-9999",
        kind=DocKind.INVOICE,
        issued=issued,
        due=issued,
        due_source=DueSource.SOURCE,
        amount=draw(money),
    )
    payer = Payment(
        key="BQ/9999",
        customer=code,
        kind=PaymentKind.RECEIPT,
        received=draw(days),
        amount=draw(money),
        label="Règlement FA-9999",
    )
    return LetteringCase(ledger, target, payer)


# --- store helpers ------------------------------------------------------------


def fresh_company(engine: Engine) -> int:
    """A new company: hypothesis runs every example against the same store."""
    return ensure_company(engine, f"p{uuid.uuid4().hex[:12]}", "Prop", "EUR")


def load(
    engine: Engine, company: int, records: list[Record], clock: FixedClock
) -> SyncReport:
    report = SyncReport(run_uid=uuid.uuid4().hex, company=str(company), source="list")
    sync(engine, company, report, _ListMapper(records), clock.now, full=False)
    assert (report.status, report.rejected) == ("completed", 0), report.rejects
    return report


AllocRow = tuple[str, str, Decimal, str, dt.date]


def allocation_rows(engine: Engine, company: int) -> list[AllocRow]:
    """(invoice key, credit key, amount, origin, date) of a company's allocations."""
    debit = invoices.alias("debit")
    note = invoices.alias("note")
    query = (
        select(
            debit.c.key,
            func.coalesce(payments.c.key, note.c.key),
            allocations.c.amount,
            allocations.c.origin,
            allocations.c.allocated_on,
        )
        .select_from(
            allocations.join(debit, debit.c.id == allocations.c.invoice_id)
            .outerjoin(payments, payments.c.id == allocations.c.payment_id)
            .outerjoin(note, note.c.id == allocations.c.credit_note_id)
        )
        .where(allocations.c.company_id == company)
    )
    with engine.connect() as conn:
        return sorted(
            (str(i), str(c), Decimal(a), str(o), d)
            for i, c, a, o, d in conn.execute(query)
        )


def item_amounts(ledger: Ledger) -> dict[str, Decimal]:
    """Every document's and payment's key, with its absolute amount."""
    found = {d.key: abs(d.amount) for d in ledger.invoices}
    found.update({p.key: p.amount for p in ledger.payments})
    return found


def assert_never_over_allocated(ledger: Ledger, rows: list[AllocRow]) -> None:
    amounts = item_amounts(ledger)
    used: dict[str, Decimal] = defaultdict(Decimal)
    for invoice_key, credit_key, amount, _, _ in rows:
        assert amount > 0
        used[invoice_key] += amount
        used[credit_key] += amount
    over = {k: (v, amounts[k]) for k, v in used.items() if v > amounts[k]}
    assert over == {}


# --- properties ---------------------------------------------------------------


@PROPERTY
@given(ledger=ledgers())
def test_nothing_is_allocated_beyond_its_amount(
    engine: Engine, clock: FixedClock, ledger: Ledger
) -> None:
    """Lettering, matching together: an invoice, payment or note is never over-used."""
    company = fresh_company(engine)
    report = load(engine, company, ledger.records(), clock)
    assert report.inserted == len(ledger.records())
    rows = allocation_rows(engine, company)
    assert len(rows) == report.allocations + report.matched
    assert_never_over_allocated(ledger, rows)


@PROPERTY
@given(ledger=ledgers())
def test_balances_add_up_per_customer(
    engine: Engine, clock: FixedClock, ledger: Ledger
) -> None:
    """ledger_balance = debits - payments = open - unapplied = sum of open items."""
    company = fresh_company(engine)
    load(engine, company, ledger.records(), clock)
    with engine.connect() as conn:
        by_code = {b.code: b for b in balances(conn, company, AS_OF)}
        assert sorted(by_code) == sorted(c.code for c in ledger.customers)
        for customer in ledger.customers:
            code = customer.code
            expected = sum(
                (d.amount for d in ledger.invoices if d.customer == code), Decimal(0)
            ) - sum(
                (p.amount for p in ledger.payments if p.customer == code), Decimal(0)
            )
            b = by_code[code]
            items = open_items(conn, company, AS_OF, customer=code)
            assert b.ledger_balance == expected
            assert b.open_invoices - b.unapplied_credits == expected
            assert sum((i.open for i in items), Decimal(0)) == expected
            assert {i.customer for i in items} <= {code}


@PROPERTY
@given(ledger=ledgers(), data=st.data())
def test_allocations_do_not_depend_on_read_order(
    engine: Engine, clock: FixedClock, ledger: Ledger, data: st.DataObject
) -> None:
    """The same ledger read in another order gives the same allocations."""
    records = ledger.records()
    shuffled = data.draw(st.permutations(records), label="shuffled")
    first, second = fresh_company(engine), fresh_company(engine)
    load(engine, first, records, clock)
    load(engine, second, shuffled, clock)
    assert allocation_rows(engine, second) == allocation_rows(engine, first)


@PROPERTY
@given(case=lettering_cases())
def test_the_accountants_lettering_wins_over_our_match(
    engine: Engine, clock: FixedClock, case: LetteringCase
) -> None:
    """A payment we matched, once lettered, keeps only the lettering's allocation."""
    ledger, target, payer = case.ledger, case.target, case.payer
    before = Ledger(
        ledger.customers, [*ledger.invoices, target], [*ledger.payments, payer]
    )
    company = fresh_company(engine)
    load(engine, company, before.records(), clock)
    settled = min(target.amount, payer.amount)
    day = max(target.issued, payer.received)
    matched = [r for r in allocation_rows(engine, company) if r[1] == payer.key]
    # only this payment names FA-9999, and the reference pass runs first; what is
    # left of a larger payment goes to other open invoices by amount or age
    assert (target.key, payer.key, settled, "match:reference", day) in matched
    assert all(r[3].startswith("match:") for r in matched)

    after = Ledger(
        ledger.customers,
        [*ledger.invoices, replace(target, lettering="ZZ", lettered_on=day)],
        [*ledger.payments, replace(payer, lettering="ZZ", lettered_on=day)],
    )
    report = load(engine, company, after.records(), clock)
    assert (report.inserted, report.updated, report.closed) == (0, 2, 0)
    rows = allocation_rows(engine, company)
    lettered = (target.key, payer.key, settled, "lettering", day)
    assert [r for r in rows if r[1] == payer.key] == [lettered]
    assert [r for r in rows if r[0] == target.key and r[3] == "lettering"] == [lettered]
    assert_never_over_allocated(after, rows)
