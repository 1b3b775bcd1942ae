"""The closed set of converters a mapping file may name, compiled once per query.

A field is either a column name (text) or a table::

    due = { column = "EC_Echeance", as = "date" }
    amount = { columns = ["EC_Montant", "EC_Sens"], as = "amount_sense" }
    language = { column = "CT_Langue", as = "enum", values = { 0 = "fr", 2 = "en" } }

Converters: ``text`` (first non-empty of its columns, optionally cut to ``first``
characters), ``concat`` (non-empty values joined by ``separator``), ``decimal``
(``zero_is_none`` for Sage's "0 = no limit"), ``date`` (Sage's 1753-01-01 and
1900-01-01 mean none),
``flag`` (0/1), ``enum``, ``period_day`` (a period's first day plus a day number),
``amount_sense`` (an unsigned amount and a debit/credit code). No expressions:
anything cleverer belongs in the SQL or in a code mapper.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sageconnect.model.money import cents, parse_amount

Kind = Literal[
    "text", "concat", "decimal", "date", "flag", "enum", "period_day", "amount_sense"
]
_NULL_DATES = (dt.date(1753, 1, 1), dt.date(1900, 1, 1))
_ARITY = {"period_day": 2, "amount_sense": 2}
T = TypeVar("T")


class FieldSpec(BaseModel):
    """How one canonical field is read from the row."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    column: str | None = None
    columns: tuple[str, ...] = ()
    as_: Kind = Field(default="text", alias="as")
    values: dict[str, str] = {}
    first: int | None = Field(default=None, ge=1)
    zero_is_none: bool = False
    format: str | None = None  # dates written as text, e.g. "%d/%m/%Y"
    separator: str = " "  # concat: between the non-empty values
    default: str | None = None  # enum: the value for NULL or an unlisted code
    debit: tuple[str, ...] = ("0", "D", "+1", "1")
    credit: tuple[str, ...] = ("1", "C", "-1")

    @model_validator(mode="after")
    def _shape(self) -> FieldSpec:
        if bool(self.column) == bool(self.columns):
            raise ValueError("exactly one of column or columns")
        need = _ARITY.get(self.as_, 0)
        if need and len(self.sources) != need:
            raise ValueError(f"{self.as_} takes columns = [two column names]")
        if self.as_ == "enum" and not self.values:
            raise ValueError("enum needs values = { source = canonical }")
        return self

    @property
    def sources(self) -> tuple[str, ...]:
        return (self.column,) if self.column else self.columns


def field_spec(value: str | FieldSpec) -> FieldSpec:
    return FieldSpec(column=value) if isinstance(value, str) else value


class ConvertError(ValueError):
    """A value that does not convert; becomes a Reject naming column and value."""

    def __init__(self, column: str, value: object, reason: str) -> None:
        super().__init__(reason)
        self.column, self.value, self.reason = column, value, reason


Getter = Callable[[Sequence[Any]], Any]


def compile_field(spec: FieldSpec, names: Sequence[str]) -> Getter:
    """A function row -> value for ``spec`` over a result with columns ``names``."""
    index = {n.lower(): i for i, n in enumerate(names)}
    missing = [c for c in spec.sources if c.lower() not in index]
    if missing:
        raise ConvertError(missing[0], None, "column missing from the query")
    cols = [(c, index[c.lower()]) for c in spec.sources]
    return _BUILDERS[spec.as_](spec, cols)


def _text(spec: FieldSpec, cols: list[tuple[str, int]]) -> Getter:
    def get(row: Sequence[Any]) -> str:
        for _, i in cols:
            value = row[i]
            if value is not None and (text := str(value).strip()):
                return text[: spec.first] if spec.first else text
        return ""

    return get


def _concat(spec: FieldSpec, cols: list[tuple[str, int]]) -> Getter:
    def get(row: Sequence[Any]) -> str:
        parts = (str(row[i]).strip() for _, i in cols if row[i] is not None)
        return spec.separator.join(p for p in parts if p)

    return get


def _decimal(spec: FieldSpec, cols: list[tuple[str, int]]) -> Getter:
    name, i = cols[0]

    def get(row: Sequence[Any]) -> Decimal | None:
        value = _to_decimal(name, row[i])
        return None if spec.zero_is_none and not value else value

    return get


def _date(spec: FieldSpec, cols: list[tuple[str, int]]) -> Getter:
    name, i = cols[0]
    convert = _memo(lambda value: _to_date(name, value, spec.format))

    def get(row: Sequence[Any]) -> dt.date | None:
        return convert(row[i])

    return get


def _flag(_spec: FieldSpec, cols: list[tuple[str, int]]) -> Getter:
    name, i = cols[0]

    def get(row: Sequence[Any]) -> bool:
        value = row[i]
        if value is None or str(value).strip() in ("", "0"):
            return False
        if str(value).strip() == "1":
            return True
        raise ConvertError(name, value, "not a 0/1 flag")

    return get


def _enum(spec: FieldSpec, cols: list[tuple[str, int]]) -> Getter:
    name, i = cols[0]

    def get(row: Sequence[Any]) -> str:
        key = "" if row[i] is None else str(row[i]).strip()
        if key not in spec.values and spec.default is not None:
            return spec.default
        if key not in spec.values:
            raise ConvertError(name, row[i], f"not one of {sorted(spec.values)}")
        return spec.values[key]

    return get


def _period_day(_spec: FieldSpec, cols: list[tuple[str, int]]) -> Getter:
    (period_name, p), (day_name, d) = cols

    def day(values: tuple[Any, Any]) -> dt.date:
        period, number = values
        start = _to_date(period_name, period)
        if start is None:
            raise ConvertError(period_name, period, "no period date")
        try:
            return start + dt.timedelta(days=int(number) - 1)
        except (TypeError, ValueError):
            raise ConvertError(day_name, number, "not a day number") from None

    convert = _memo(day)

    def get(row: Sequence[Any]) -> dt.date:
        return convert((row[p], row[d]))

    return get


MEMO = 4096  # distinct values a converter remembers (dates repeat: few distinct)


def _memo(convert: Callable[[Any], T]) -> Callable[[Any], T]:
    """``convert`` remembering what it gave for the last few thousand distinct
    values (a value that does not convert is converted again, and raises again).

    Values that compare equal convert alike: dates, datetimes and texts never
    compare equal to one another.
    """
    known: dict[Any, T] = {}

    def get(value: Any) -> T:
        try:
            return known[value]
        except KeyError:
            pass
        except TypeError:  # unhashable
            return convert(value)
        result = convert(value)
        if len(known) >= MEMO:
            known.clear()
        known[value] = result
        return result

    return get


def _amount_sense(spec: FieldSpec, cols: list[tuple[str, int]]) -> Getter:
    (amount_name, a), (sense_name, s) = cols
    debit = {code.upper() for code in spec.debit}
    credit = {code.upper() for code in spec.credit}

    def get(row: Sequence[Any]) -> Decimal:
        amount = _to_decimal(amount_name, row[a])
        if amount is None:
            raise ConvertError(amount_name, None, "no amount")
        sense = "" if row[s] is None else str(row[s]).strip().upper()
        if sense in debit:
            return amount
        if sense in credit:
            return -amount
        raise ConvertError(sense_name, row[s], "not a debit or credit code")

    return get


def _to_decimal(name: str, value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, str) and "," in value:
        try:
            return parse_amount(value, decimal_comma=True)
        except ValueError as exc:
            raise ConvertError(name, value, str(exc)) from None
    try:
        # floats (SQLite REAL) go through their shortest repr, never binary.
        amount = (
            Decimal(repr(value))
            if isinstance(value, float)
            else Decimal(str(value).strip())
        )
    except InvalidOperation:
        raise ConvertError(name, value, "not a decimal number") from None
    if not amount.is_finite() or cents(amount) != amount:
        raise ConvertError(name, value, "not an amount to the cent")
    return cents(amount)


def _to_date(name: str, value: Any, fmt: str | None = None) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        day = value.date()
    elif isinstance(value, dt.date):
        day = value
    else:
        text = str(value).strip()
        try:
            if fmt:
                day = dt.datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a date
            else:
                day = dt.date.fromisoformat(text[:10])
        except ValueError:
            expected = f" (expected {fmt})" if fmt else " (expected YYYY-MM-DD)"
            raise ConvertError(name, value, "not a date" + expected) from None
    return None if day in _NULL_DATES else day


_BUILDERS: dict[str, Callable[[FieldSpec, list[tuple[str, int]]], Getter]] = {
    "text": _text,
    "concat": _concat,
    "decimal": _decimal,
    "date": _date,
    "flag": _flag,
    "enum": _enum,
    "period_day": _period_day,
    "amount_sense": _amount_sense,
}
