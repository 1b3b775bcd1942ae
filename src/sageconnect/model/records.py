"""Canonical records a mapper yields: what the ledger says, before any decision."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from decimal import Decimal


class DocKind(enum.StrEnum):
    """What a receivable debit or credit document is."""

    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"
    DEBIT = "debit"  # a debit outside sales: bounced payment, refund, transfer
    OPENING = "opening"  # an opening (a-nouveau) item whose origin is not loaded


class PaymentKind(enum.StrEnum):
    """How a credit on the customer account arose."""

    RECEIPT = "receipt"  # money received (bank, cash)
    ADJUSTMENT = "adjustment"  # write-off, transfer, miscellaneous entry
    OPENING = "opening"  # an opening credit whose origin is not loaded


class DueSource(enum.StrEnum):
    """Where a due date came from, so a report can say how far to trust it."""

    SOURCE = "source"
    TERMS = "terms"


@dataclass(frozen=True, slots=True, kw_only=True)
class Customer:
    """A customer account (auxiliary account, or the receivable account itself)."""

    code: str
    name: str
    account: str = ""
    email: str | None = None
    phone: str | None = None
    siren: str | None = None
    language: str = "fr"
    payment_terms: str | None = None
    credit_limit: Decimal | None = None
    insured_limit: Decimal | None = None
    dunning_excluded: bool = False
    category: str = ""  # a customer category (Sage N_CatCompta, a group...) for rules
    consumer: bool = False  # a consumer debtor: no B2B penalties nor EUR 40 indemnity


@dataclass(frozen=True, slots=True, kw_only=True)
class Contact:
    """A person to write to or call at a customer."""

    key: str
    customer: str
    name: str
    role: str = ""
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Invoice:
    """A debit document or a credit note; credit notes carry a negative amount."""

    key: str
    customer: str
    number: str
    kind: DocKind
    issued: dt.date
    due: dt.date
    due_source: DueSource
    amount: Decimal
    currency: str = "EUR"
    currency_amount: Decimal | None = None
    journal: str = ""
    label: str = ""
    lettering: str | None = None
    lettered_on: dt.date | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Payment:
    """A credit on the customer account that is not a credit note."""

    key: str
    customer: str
    kind: PaymentKind
    received: dt.date
    amount: Decimal
    currency: str = "EUR"
    currency_amount: Decimal | None = None
    journal: str = ""
    reference: str = ""
    label: str = ""
    lettering: str | None = None
    lettered_on: dt.date | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Settlement:
    """The source says how much of an invoice a payment settles (Sage F_REGLECH)."""

    key: str
    invoice: str  # the key of the Invoice settled
    payment: str  # the key of the Payment that settles it
    amount: Decimal
    settled_on: dt.date


@dataclass(frozen=True, slots=True, kw_only=True)
class Reject:
    """A source row set aside, with everything an operator needs to find and fix it."""

    where: str
    reason: str
    line: int | None = None
    field: str | None = None
    value: str | None = None

    def __str__(self) -> str:
        at = f"{self.where}:{self.line}" if self.line is not None else self.where
        field = f" {self.field}" if self.field else ""
        value = f" = {self.value!r}" if self.value is not None else ""
        return f"{at}{field}{value}: {self.reason}"


Keyed = Customer | Contact | Invoice | Payment | Settlement
Record = Keyed | Reject
