"""One ledger line, parsed from the columns a mapping names."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache, partial
from operator import itemgetter
from typing import NamedTuple

from sageconnect.errors import SourceUnavailable
from sageconnect.mapping.spec import FileSpec, LedgerSpec
from sageconnect.model.money import parse_cents, to_cents
from sageconnect.model.records import Reject


@dataclass(frozen=True, slots=True)
class LedgerLine:
    """A receivable line: amount is signed, debit positive."""

    line: int
    journal: str
    entry: str
    date: dt.date
    account: str
    customer: str
    customer_name: str
    piece: str
    piece_date: dt.date | None
    label: str
    amount: Decimal
    lettering: str
    lettered_on: dt.date | None
    currency: str
    currency_amount: Decimal | None
    due: dt.date | None


class LineCents(NamedTuple):
    """A LedgerLine as the ledger mapper carries it: amounts in integer cents.

    A tuple, built at C speed: the mapper makes one per receivable line of
    files of millions of lines. Same fields, in the same order, as LedgerLine.
    """

    line: int
    journal: str
    entry: str
    date: dt.date
    account: str
    customer: str
    customer_name: str
    piece: str
    piece_date: dt.date | None
    label: str
    amount: int
    lettering: str
    lettered_on: dt.date | None
    currency: str
    currency_amount: int | None
    due: dt.date | None

    @classmethod
    def of(cls, line: LedgerLine) -> LineCents:
        """The line in cents (its amounts must be to the cent)."""
        return cls(
            line.line,
            line.journal,
            line.entry,
            line.date,
            line.account,
            line.customer,
            line.customer_name,
            line.piece,
            line.piece_date,
            line.label,
            to_cents(line.amount),
            line.lettering,
            line.lettered_on,
            line.currency,
            None if line.currency_amount is None else to_cents(line.currency_amount),
            line.due,
        )


class BadField(ValueError):  # noqa: N818 - a row-level condition, turned into a Reject
    def __init__(self, field: str, value: str, reason: str) -> None:
        super().__init__(reason)
        self.field, self.value, self.reason = field, value, reason


@dataclass(frozen=True, slots=True)
class Columns:
    """Header positions of the mapped columns in one file."""

    names: tuple[str, ...]
    index: dict[str, int]
    amount_kind: str
    amount: tuple[int, int]
    due: int | None

    @classmethod
    def bind(cls, header: tuple[str, ...], spec: LedgerSpec, where: str) -> Columns:
        """Find every mapped column; a missing required one stops the file."""
        folded = {name.casefold(): i for i, name in enumerate(header)}
        index: dict[str, int] = {}
        for field, name in spec.columns.model_dump(exclude={"due"}).items():
            if name is not None and name.casefold() in folded:
                index[field] = folded[name.casefold()]
        missing = [
            getattr(spec.columns, f)
            for f in ("journal", "entry", "date", "account", "piece")
            if f not in index
        ]
        variant = next(
            (a for a in spec.amount if all(c.casefold() in folded for c in a.columns)),
            None,
        )
        if variant is None:
            missing.append(" or ".join("+".join(a.columns) for a in spec.amount))
        if missing or variant is None:
            raise SourceUnavailable(
                where, f"header lacks column(s) {', '.join(missing)}"
            )
        due = next(
            (folded[d.casefold()] for d in spec.columns.due if d.casefold() in folded),
            None,
        )
        first, second = (folded[c.casefold()] for c in variant.columns)
        return cls(header, index, variant.as_, (first, second), due)


class LineParser:
    """Turns the fields of a receivable line into a LineCents, or a Reject."""

    def __init__(
        self, columns: Columns, file: FileSpec, where: str, tag: str | None = None
    ) -> None:
        self.c = columns
        self.where = where
        self.tag = tag
        self.parse_date: Callable[[str], dt.date] = lru_cache(maxsize=4096)(
            _date_parser(file.date_formats)
        )
        self._pick = itemgetter(*(columns.index.get(n, -1) for n in _PICKED))
        # amounts repeat (0,00 on every other line): parsed once each
        self.cents: Callable[[str], int] = lru_cache(maxsize=65536)(
            partial(parse_cents, decimal_comma=file.decimal_comma)
        )

    def parse(self, number: int, fields: list[str]) -> LineCents | Reject:
        try:
            return self._parse(number, fields)
        except BadField as bad:
            return Reject(
                where=self.where,
                line=number,
                field=bad.field,
                value=bad.value,
                reason=bad.reason,
            )

    def _parse(self, number: int, fields: list[str]) -> LineCents:
        (
            journal,
            entry,
            account,
            aux,
            account_name,
            aux_name,
            piece,
            label,
            currency,
            currency_amount_text,
            date_text,
            piece_date_text,
            lettering,
            lettering_date_text,
        ) = self._pick([*fields, ""])  # a missing optional column reads as ""
        index = self.c.index
        date = self._day(date_text, index["date"])
        due = None
        if self.c.due is not None and fields[self.c.due]:
            due = self._day(fields[self.c.due], self.c.due)
        currency = currency.upper()
        if currency and not (len(currency) == _ISO_CODE and currency.isalpha()):
            name = self.c.names[self.c.index["currency"]]
            raise BadField(name, currency, "not an ISO 4217 currency code")
        currency_amount = None
        if currency and currency_amount_text:
            currency_amount = self._money(fields, self.c.index["currency_amount"])
        piece_date = (
            self._day(piece_date_text, index["piece_date"]) if piece_date_text else None
        )
        amount = self._amount(fields)
        if self.tag is not None:  # lettering codes are scoped by the file's tag
            lettering = scoped(self.tag, lettering)
        return LineCents(
            number,
            journal,
            entry,
            date,
            account,
            aux or account,
            (aux_name if aux else account_name) or aux or account,
            piece,
            piece_date,
            label,
            amount,
            lettering,
            self._day(lettering_date_text, index["lettering_date"])
            if lettering_date_text
            else None,
            currency,
            currency_amount,
            due,
        )

    def _day(self, text: str, column: int) -> dt.date:
        """The date in ``text``, read from column number ``column``, or BadField."""
        try:
            return self.parse_date(text)
        except ValueError:
            name = self.c.names[column]
            raise BadField(name, text, "not a date (expected YYYYMMDD)") from None

    def _money(self, fields: list[str], i: int) -> int:
        """Integer cents of an amount column."""
        try:
            return self.cents(fields[i])
        except ValueError as exc:
            raise BadField(self.c.names[i], fields[i], str(exc)) from None

    def _amount(self, fields: list[str]) -> int:
        first, second = self.c.amount
        if self.c.amount_kind == "amount_sense":
            value = self._money(fields, first)
            sense = fields[second].upper()
            if sense in ("D", "+1", "1", "+"):
                return value
            if sense in ("C", "-1", "-"):
                return -value
            raise BadField(
                self.c.names[second], fields[second], "sense must be D, C, +1 or -1"
            )
        debit_text, credit_text = fields[first], fields[second]
        if not debit_text and not credit_text:
            raise BadField(
                self.c.names[first], "", "no amount: debit and credit both empty"
            )
        debit = self._money(fields, first) if debit_text else 0
        credit = self._money(fields, second) if credit_text else 0
        if debit and credit:
            raise BadField(
                self.c.names[first],
                f"{debit_text}/{credit_text}",
                "both debit and credit",
            )
        return debit - credit


def scoped(file_tag: str, lettering: str) -> str:
    """Lettering codes are scoped by fiscal file: codes may restart each year."""
    if not lettering or ":" in lettering:
        return lettering
    return f"{file_tag}:{lettering}"


_PICKED = (
    "journal",
    "entry",
    "account",
    "aux_account",
    "account_name",
    "aux_name",
    "piece",
    "label",
    "currency",
    "currency_amount",
    "date",
    "piece_date",
    "lettering",
    "lettering_date",
)
_COMPACT = len("YYYYMMDD")
_ISO_CODE = len("EUR")


def _date_parser(formats: tuple[str, ...]) -> Callable[[str], dt.date]:
    def parse(text: str) -> dt.date:
        if len(text) == _COMPACT and text.isdigit() and formats[0] == "%Y%m%d":
            return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
        for fmt in formats:
            try:
                return dt.datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a date, no time
            except ValueError:
                continue
        raise ValueError(text)

    return parse
