"""One ledger line, parsed from the columns a mapping names."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from operator import itemgetter

from sageconnect.errors import SourceUnavailable
from sageconnect.mapping.spec import FileSpec, LedgerSpec
from sageconnect.model.money import parse_amount
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
    """Turns the fields of a receivable line into a LedgerLine, or a Reject."""

    def __init__(
        self, columns: Columns, file: FileSpec, where: str, tag: str | None = None
    ) -> None:
        self.c = columns
        self.where = where
        self.tag = tag
        self.decimal_comma = file.decimal_comma
        self.parse_date: Callable[[str], dt.date] = lru_cache(maxsize=4096)(
            _date_parser(file.date_formats)
        )
        self._pick = itemgetter(*(columns.index.get(n, -1) for n in _PICKED))

    def _get(self, fields: list[str], name: str) -> str:
        i = self.c.index.get(name)
        return fields[i] if i is not None else ""

    def _date(self, fields: list[str], name: str, *, required: bool) -> dt.date | None:
        text = self._get(fields, name)
        if not text and not required:
            return None
        try:
            return self.parse_date(text)
        except ValueError:
            column = self.c.names[self.c.index[name]]
            raise BadField(column, text, "not a date (expected YYYYMMDD)") from None

    def parse(self, number: int, fields: list[str]) -> LedgerLine | Reject:
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

    def _parse(self, number: int, fields: list[str]) -> LedgerLine:
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
        ) = self._pick([*fields, ""])  # a missing optional column reads as ""
        date = self._date(fields, "date", required=True)
        assert date is not None  # noqa: S101 - required=True
        due = None
        if self.c.due is not None and fields[self.c.due]:
            try:
                due = self.parse_date(fields[self.c.due])
            except ValueError:
                name = self.c.names[self.c.due]
                raise BadField(
                    name, fields[self.c.due], "not a date (expected YYYYMMDD)"
                ) from None
        currency = currency.upper()
        if currency and not (len(currency) == _ISO_CODE and currency.isalpha()):
            name = self.c.names[self.c.index["currency"]]
            raise BadField(name, currency, "not an ISO 4217 currency code")
        currency_amount = None
        if currency and currency_amount_text:
            currency_amount = self._money(fields, self.c.index["currency_amount"])
        piece_date = self._date(fields, "piece_date", required=False)
        amount = self._amount(fields)
        lettering = self._lettering(fields)
        return LedgerLine(
            line=number,
            journal=journal,
            entry=entry,
            date=date,
            account=account,
            customer=aux or account,
            customer_name=(aux_name if aux else account_name) or aux or account,
            piece=piece,
            piece_date=piece_date,
            label=label,
            amount=amount,
            lettering=lettering,
            lettered_on=self._date(fields, "lettering_date", required=False),
            currency=currency,
            currency_amount=currency_amount,
            due=due,
        )

    def _lettering(self, fields: list[str]) -> str:
        """The lettering code, scoped by the file's tag when the parser has one."""
        code = self._get(fields, "lettering")
        return code if self.tag is None else scoped(self.tag, code)

    def _money(self, fields: list[str], i: int) -> Decimal:
        try:
            return parse_amount(fields[i], decimal_comma=self.decimal_comma)
        except ValueError as exc:
            raise BadField(self.c.names[i], fields[i], str(exc)) from None

    def _amount(self, fields: list[str]) -> Decimal:
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
        debit = self._money(fields, first) if debit_text else Decimal(0)
        credit = self._money(fields, second) if credit_text else Decimal(0)
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
