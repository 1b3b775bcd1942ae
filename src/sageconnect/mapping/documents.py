"""What a receivable ledger line is: invoice, credit note, debit, payment.

The entry's kind (sale, cash, other, opening) and the line's side decide. Both
the FEC mapper (kind from the entry's counterpart accounts) and the entries
mappers (kind from the journal type, in SQL) end here.
"""

from __future__ import annotations

from dataclasses import dataclass

from sageconnect.mapping.ledger_line import LedgerLine
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


class DocumentMaker:
    """Turns receivable lines into canonical records for one company."""

    def __init__(self, settings: LedgerSettings) -> None:
        self.settings = settings
        self.default_terms: Terms = parse_terms(settings.default_terms)
        self.terms = {c: parse_terms(t) for c, t in settings.terms_by_customer.items()}

    def make(self, kind: str, key: str, line: LedgerLine) -> Invoice | Payment:
        """The record a receivable line is, given its entry's kind."""
        foreign = bool(line.currency) and line.currency != self.settings.currency
        currency = line.currency if foreign else self.settings.currency
        currency_amount = line.currency_amount if foreign else None
        if line.amount < 0 and kind != "sale":
            return Payment(
                key=key,
                customer=line.customer,
                kind=PaymentKind.RECEIPT
                if kind == "cash"
                else (
                    PaymentKind.OPENING if kind == "opening" else PaymentKind.ADJUSTMENT
                ),
                received=line.date,
                amount=-line.amount,
                currency=currency,
                currency_amount=abs(currency_amount)
                if currency_amount is not None
                else None,
                journal=line.journal,
                reference=line.piece,
                label=line.label,
                lettering=line.lettering or None,
                lettered_on=line.lettered_on,
            )
        issued = line.piece_date or line.date
        doc = _DOC_KIND[kind] if line.amount > 0 else DocKind.CREDIT_NOTE
        if line.due is not None:
            due, source = line.due, DueSource.SOURCE
        elif doc in (DocKind.INVOICE, DocKind.OPENING):
            due, source = (
                self.terms.get(line.customer, self.default_terms).due(issued),
                DueSource.TERMS,
            )
        else:
            due, source = issued, DueSource.TERMS
        return Invoice(
            key=key,
            customer=line.customer,
            number=line.piece,
            kind=doc,
            issued=issued,
            due=due,
            due_source=source,
            amount=line.amount,
            currency=currency,
            currency_amount=(
                currency_amount.copy_sign(line.amount)
                if currency_amount is not None
                else None
            ),
            journal=line.journal,
            label=line.label,
            lettering=line.lettering or None,
            lettered_on=line.lettered_on,
        )


_DOC_KIND = {
    "sale": DocKind.INVOICE,
    "opening": DocKind.OPENING,
    "cash": DocKind.DEBIT,
    "other": DocKind.DEBIT,
}
