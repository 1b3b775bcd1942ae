"""One movement on a bank statement, whatever the file format it came from."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import Counter
from dataclasses import dataclass, fields
from decimal import Decimal

from sageconnect.model.money import CENT

_SPACES = re.compile(r"\s+")
_CENT_EXPONENT = -2
KEY_LENGTH = 20
NOT_PROVIDED = "NOTPROVIDED"  # what SEPA puts in an end-to-end id nobody gave


def clean(text: str | None) -> str:
    """Strip a text and collapse its internal whitespace runs to one space."""
    return _SPACES.sub(" ", text).strip() if text else ""


def at_least_cents(amount: Decimal) -> Decimal:
    """Show an amount with two decimals at least, never rounding it."""
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < _CENT_EXPONENT:
        return amount  # more decimals than cents: kept as the bank wrote them
    return amount.quantize(CENT)


@dataclass(frozen=True, slots=True, kw_only=True)
class BankLine:
    """A movement on one of our bank accounts.

    ``amount`` is signed from our side: positive is money in. ``line`` is the
    1-based record number of the CFONB 04 record, or the 1-based ordinal of the
    camt ``Ntry`` in its file. Text fields are stripped, whitespace collapsed.
    """

    key: str
    source: str
    line: int
    account: str
    booked: dt.date
    value_date: dt.date | None
    amount: Decimal
    currency: str
    payer_name: str = ""
    payer_account: str = ""
    remittance: str = ""
    structured_ref: str = ""
    end_to_end_id: str = ""
    bank_ref: str = ""
    label: str = ""
    booked_status: str = "BOOK"
    reversal: bool = False

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, str) and f.name != "key":
                object.__setattr__(self, f.name, clean(value))

    @property
    def is_credit(self) -> bool:
        """Money received that is not the reversal of an earlier movement."""
        return self.amount > 0 and not self.reversal


class Keys:
    """Stable keys for the movements of one statement.

    A key hashes what identifies a movement at its bank (format, account,
    booking date, amount, currency, bank reference, end-to-end id, label,
    reversal flag) and how many identical movements came before it in the same
    statement, so the same statement delivered again gives the same keys.
    """

    def __init__(self, fmt: str) -> None:
        self.fmt = fmt
        self._seen: Counter[str] = Counter()

    def new_statement(self) -> None:
        """Start counting identical movements afresh."""
        self._seen.clear()

    def key(
        self,
        *,
        account: str,
        booked: dt.date,
        amount: Decimal,
        currency: str,
        bank_ref: str,
        end_to_end_id: str,
        label: str,
        reversal: bool,
    ) -> str:
        parts = [
            self.fmt,
            clean(account),
            booked.isoformat(),
            str(at_least_cents(amount)),
            clean(currency),
            clean(bank_ref),
            clean(end_to_end_id),
            clean(label),
            "R" if reversal else "",
        ]
        identity = "\x1f".join(parts)
        occurrence = self._seen[identity]
        self._seen[identity] += 1
        text = f"{identity}\x1f{occurrence}".encode()
        return hashlib.sha1(text, usedforsecurity=False).hexdigest()[:KEY_LENGTH]
