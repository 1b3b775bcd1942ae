"""Which open invoices a bank credit pays, when the evidence says so, and only then.

A credit line on a statement is money received before the accountant books it.
It is matched, in this order, by:

1. ``reference``: invoice numbers in the structured reference (an RF creditor
   reference carries the number after its four check characters), the
   remittance text or the label; the amount goes to those invoices, oldest due
   first, never beyond what is open on each;
2. ``payer``: no number, but the payer's name is a customer's name and the
   amount equals one of its open invoices, or all of them together.

Anything else is left unmatched with its reason: a bank line is never guessed
onto an invoice by amount alone.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sageconnect.ledger.matching import normalize, references

_RF = re.compile(r"^RF[0-9]{2}([0-9A-Z]+)$")
_LEGAL_FORMS = frozenset(
    {"SA", "SAS", "SASU", "SARL", "EURL", "SCI", "SNC", "SCOP", "SELARL", "STE", "ETS"}
)


@dataclass(frozen=True, slots=True)
class Invoice:
    """An invoice open in the ledger, less what other bank lines already cover."""

    id: int
    customer: str
    customer_name: str
    number: str
    open: Decimal
    due: dt.date


@dataclass(frozen=True, slots=True)
class Credit:
    """A bank credit line, as the matcher needs it."""

    amount: Decimal
    payer_name: str
    structured_ref: str
    texts: str  # remittance and label


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a line pays: (invoice id, amount) pairs, how, and what is left."""

    pays: tuple[tuple[int, Decimal], ...]
    method: str  # "reference", "payer", "paid" (already in the ledger) or ""
    left: Decimal
    reason: str

    @property
    def status(self) -> str:
        if self.method == "paid":
            return "booked"
        if not self.pays:
            return "unmatched"
        return "partial" if self.left > 0 else "matched"


def name_key(name: str) -> str:
    """A company name as compared: no accents, case, punctuation or legal form."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    words = re.findall(r"[A-Za-z0-9]+", plain.upper())
    return " ".join(w for w in words if w not in _LEGAL_FORMS)


def match_credit(credit: Credit, invoices: Sequence[Invoice]) -> Outcome:
    """The invoices ``credit`` pays among the company's ``invoices``.

    ``invoices`` may include paid ones (``open`` 0): a line naming only paid
    invoices is money the ledger has already booked.
    """
    wanted = _referenced(credit, invoices)
    if wanted:
        return _pay(credit.amount, wanted, "reference")
    invoices = [i for i in invoices if i.open > 0]
    payer = name_key(credit.payer_name)
    if not payer:
        return Outcome((), "", credit.amount, "no invoice number and no payer name")
    theirs = [i for i in invoices if _same_payer(payer, name_key(i.customer_name))]
    if not theirs:
        return Outcome(
            (), "", credit.amount, "no invoice number; the payer is no known customer"
        )
    exact = [i for i in theirs if i.open == credit.amount]
    if len(exact) == 1:
        return _pay(credit.amount, exact, "payer")
    if sum((i.open for i in theirs), Decimal(0)) == credit.amount:
        return _pay(credit.amount, theirs, "payer")
    why = "several open invoices of this amount" if exact else "no open invoice"
    return Outcome((), "", credit.amount, f"payer known, but {why} matches the amount")


def _referenced(credit: Credit, invoices: Iterable[Invoice]) -> list[Invoice]:
    words = references(f"{credit.structured_ref} {credit.texts}")
    for word in list(words):
        rf = _RF.match(word)
        if rf:
            words.append(rf.group(1))
    wanted = set(words)
    return [i for i in invoices if normalize(i.number) in wanted]


def _same_payer(payer: str, customer: str) -> bool:
    if not customer:
        return False
    if payer == customer:
        return True
    shorter, longer = sorted((payer, customer), key=len)
    return len(shorter) >= 6 and f" {shorter} " in f" {longer} "  # noqa: PLR2004


def _pay(amount: Decimal, invoices: Iterable[Invoice], method: str) -> Outcome:
    left = amount
    pays: list[tuple[int, Decimal]] = []
    for invoice in sorted(invoices, key=lambda i: (i.due, i.number, i.id)):
        part = min(left, invoice.open)
        if part > 0:
            pays.append((invoice.id, part))
            left -= part
    if not pays:
        return Outcome((), "paid", amount, "the invoices it names are already paid")
    reason = "" if left == 0 else "more than the invoices it names have open"
    return Outcome(tuple(pays), method, left, reason)
