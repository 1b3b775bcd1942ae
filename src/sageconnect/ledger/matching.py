"""Match payers the accountant has not lettered yet to one customer's open debits.

Three passes, each over every credit before the next pass starts, so that the
strongest evidence is used first:

1. ``reference``: an invoice number found in the credit's reference or label;
2. ``amount``: a debit whose open amount equals what is left of the credit;
3. ``oldest``: what is left goes to the open debits by due date, oldest first
   (the French default imputation, Code civil art. 1342-10).

A disputed invoice is matched only by a credit that names it: a payment
without a reference goes to what the customer does not contest.

Credits are taken by date then key, debits by due date, issue date, number and
key, whatever order they come in: the same ledger always gives the same
allocations. An allocation never exceeds what is left on either side.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

METHODS = ("reference", "amount", "oldest")
MIN_REFERENCE = 3  # shorter numbers ("12") would be found in any text

_SPLIT = re.compile(r"[^0-9A-Za-z]+")
_WORDS = re.compile(r"[^\s,;:/\\|&+=*()\[\]{}<>\"']+")


@dataclass(frozen=True, slots=True)
class OpenDebit:
    """An invoice or other debit with something still open (``open`` > 0)."""

    id: int
    number: str
    open: Decimal
    issued: dt.date
    due: dt.date
    key: str = ""  # the source's key: breaks ties whatever order rows were read in
    disputed: bool = False  # matched by its number only: a payment naming it


@dataclass(frozen=True, slots=True)
class OpenCredit:
    """A payment or credit note with something not applied yet (``open`` > 0)."""

    id: int
    side: str  # "payment" or "credit_note"
    key: str
    open: Decimal
    date: dt.date
    text: str  # reference and label, where invoice numbers are looked for


@dataclass(frozen=True, slots=True)
class Match:
    invoice_id: int
    credit_side: str
    credit_id: int
    amount: Decimal
    allocated_on: dt.date
    method: str


def normalize(number: str) -> str:
    """An invoice number as compared: upper case, letters and digits only."""
    return _SPLIT.sub("", number).upper()


def references(text: str) -> list[str]:
    """The normalized words of a text that could be an invoice number.

    A word is cut at blanks and at ``, ; : / | & +`` (so "FA-12/FA-13" names
    both invoices); its parts split at ``-``, ``.`` and ``_`` are candidates
    too, so "FA2026-00012" is also found as "00012" when that is the number.
    """
    found: list[str] = []
    for word in _WORDS.findall(text):
        candidates = [word, *_SPLIT.split(word)]
        for candidate in candidates:
            norm = normalize(candidate)
            if len(norm) >= MIN_REFERENCE and norm not in found:
                found.append(norm)
    return found


def match(
    debits: Iterable[OpenDebit],
    payers: Iterable[OpenCredit],
    methods: Sequence[str] = METHODS,
) -> list[Match]:
    """Allocations of credits (``payers``) to one customer's ``debits``."""
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        msg = f"unknown matching method {unknown[0]!r}"
        raise ValueError(msg)
    book = _Book(debits, payers)
    for method in methods:
        for credit in book.credits:
            getattr(book, method)(credit)
    return book.out


class _Book:
    """What is left on each side while the passes run."""

    def __init__(self, debits: Iterable[OpenDebit], payers: Iterable[OpenCredit]):
        self.debits = sorted(
            debits, key=lambda d: (d.due, d.issued, d.number, d.key, d.id)
        )
        self.credits = sorted(payers, key=lambda c: (c.date, c.side, c.key, c.id))
        self.left_d = {d.id: d.open for d in self.debits}
        self.left_c = {(c.side, c.id): c.open for c in self.credits}
        self.by_number: dict[str, list[OpenDebit]] = {}
        for d in self.debits:
            self.by_number.setdefault(normalize(d.number), []).append(d)
        self.out: list[Match] = []

    def give(self, credit: OpenCredit, debit: OpenDebit, method: str) -> None:
        amount = min(self.left_c[credit.side, credit.id], self.left_d[debit.id])
        if amount <= 0:
            return
        self.left_c[credit.side, credit.id] -= amount
        self.left_d[debit.id] -= amount
        on = max(credit.date, debit.issued)
        self.out.append(Match(debit.id, credit.side, credit.id, amount, on, method))

    def reference(self, credit: OpenCredit) -> None:
        for ref in references(credit.text):
            for debit in self.by_number.get(ref, ()):
                self.give(credit, debit, "reference")

    def amount(self, credit: OpenCredit) -> None:
        remaining = self.left_c[credit.side, credit.id]
        if remaining <= 0:
            return
        same = next(
            (
                d
                for d in self.debits
                if not d.disputed and self.left_d[d.id] == remaining
            ),
            None,
        )
        if same is not None:
            self.give(credit, same, "amount")

    def oldest(self, credit: OpenCredit) -> None:
        for debit in self.debits:
            if self.left_c[credit.side, credit.id] <= 0:
                return
            if not debit.disputed:
                self.give(credit, debit, "oldest")
