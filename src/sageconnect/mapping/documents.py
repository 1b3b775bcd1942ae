"""What a receivable ledger line is: invoice, credit note, debit, payment.

The entry's kind (sale, cash, other, opening) and the line's side decide. Both
the FEC mapper (kind from the entry's counterpart accounts) and the entries
mappers (kind from the journal type, in SQL) end here.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from sageconnect.mapping.ledger_line import LedgerLine, LineCents
from sageconnect.model.money import from_cents
from sageconnect.model.records import DocKind, DueSource, Invoice, Payment, PaymentKind
from sageconnect.terms import Terms, parse_terms


@dataclass(frozen=True, slots=True)
class LedgerSettings:
    """What a company's config adds to the mapping."""

    currency: str
    default_terms: str
    terms_by_customer: dict[str, str]
    receivable_accounts: tuple[str, ...] | None = None
    encoding: str = "auto"


Row = tuple[type[Invoice] | type[Payment], tuple[Any, ...]]
"""A record as the store stages it: its type, and its field values in order,
money in integer cents and enums by value. Cheaper to make than the record."""


class DocumentMaker:
    """Turns receivable lines into canonical records for one company."""

    def __init__(self, settings: LedgerSettings) -> None:
        self.settings = settings
        self.default_terms: Terms = parse_terms(settings.default_terms)
        self.terms = {c: parse_terms(t) for c, t in settings.terms_by_customer.items()}

    def make(self, kind: str, key: str, line: LedgerLine) -> Invoice | Payment:
        """The record a receivable line is, given its entry's kind."""
        return record(self.row(kind, key, LineCents.of(line)))

    def row(self, kind: str, key: str, line: LineCents) -> Row:
        """What ``make`` gives, as a staged row (see Row)."""
        amount = line.amount
        foreign = bool(line.currency) and line.currency != self.settings.currency
        currency = line.currency if foreign else self.settings.currency
        currency_amount = line.currency_amount if foreign else None
        lettering = line.lettering or None
        if amount < 0 and kind != "sale":
            return Payment, (
                key,
                line.customer,
                _PAYMENT_KIND.get(kind, PaymentKind.ADJUSTMENT.value),
                line.date,
                -amount,
                currency,
                None if currency_amount is None else abs(currency_amount),
                line.journal,
                line.piece,
                line.label,
                lettering,
                line.lettered_on,
            )
        issued = line.piece_date or line.date
        doc = _DOC_KIND[kind] if amount > 0 else DocKind.CREDIT_NOTE
        if line.due is not None:
            due, source = line.due, DueSource.SOURCE
        elif doc in (DocKind.INVOICE, DocKind.OPENING):
            due, source = (
                self.terms.get(line.customer, self.default_terms).due(issued),
                DueSource.TERMS,
            )
        else:
            due, source = issued, DueSource.TERMS
        if currency_amount is not None:  # the sign of the amount
            currency_amount = (
                -abs(currency_amount) if amount < 0 else abs(currency_amount)
            )
        return Invoice, (
            key,
            line.customer,
            line.piece,
            doc.value,
            issued,
            due,
            source.value,
            amount,
            currency,
            currency_amount,
            line.journal,
            line.label,
            lettering,
            line.lettered_on,
        )


def record(row: Row) -> Invoice | Payment:
    """The record a staged row stands for."""
    kind, values = row
    fields = dict(zip(_FIELDS[kind], values, strict=True))
    fields["amount"] = from_cents(fields["amount"])
    if fields["currency_amount"] is not None:
        fields["currency_amount"] = from_cents(fields["currency_amount"])
    if kind is Payment:
        fields["kind"] = PaymentKind(fields["kind"])
        return Payment(**fields)
    fields["kind"] = DocKind(fields["kind"])
    fields["due_source"] = DueSource(fields["due_source"])
    return Invoice(**fields)


_FIELDS = {kind: tuple(f.name for f in fields(kind)) for kind in (Invoice, Payment)}
_PAYMENT_KIND = {
    "cash": PaymentKind.RECEIPT.value,
    "opening": PaymentKind.OPENING.value,
}
_DOC_KIND = {
    "sale": DocKind.INVOICE,
    "opening": DocKind.OPENING,
    "cash": DocKind.DEBIT,
    "other": DocKind.DEBIT,
}
