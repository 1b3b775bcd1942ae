"""Rows (from a query or a file) into canonical records, through a mapping's fields."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sageconnect.mapping.convert import ConvertError, Getter, compile_field, field_spec
from sageconnect.mapping.documents import DocumentMaker, Row, record
from sageconnect.mapping.ledger_line import LineCents
from sageconnect.mapping.spec import (
    AnyStream,
    FieldRef,
)
from sageconnect.model.money import to_cents
from sageconnect.model.records import Contact, Customer, Record, Settlement


class RowBuilder:
    """Builds customers and receivable entries from compiled field getters."""

    def __init__(self, documents: DocumentMaker) -> None:
        self.documents = documents

    def customer(self, get: dict[str, Getter], row: Sequence[Any]) -> Customer:
        values = {name: getter(row) for name, getter in get.items()}
        return Customer(
            code=values["code"],
            name=values["name"] or values["code"],
            account=values.get("account", ""),
            email=values.get("email") or None,
            phone=values.get("phone") or None,
            siren=values.get("siren") or None,
            language=values.get("language") or "fr",
            credit_limit=values.get("credit_limit"),
            insured_limit=values.get("insured_limit"),
            dunning_excluded=bool(values.get("dunning_excluded", False)),
            category=values.get("category") or "",
            consumer=bool(values.get("consumer", False)),
        )

    def contact(self, get: dict[str, Getter], row: Sequence[Any]) -> Contact:
        values = {name: getter(row) for name, getter in get.items()}
        if not values["customer"]:
            raise ConvertError("customer", None, "no customer account")
        return Contact(
            key=values["key"],
            customer=values["customer"],
            name=values["name"],
            role=values.get("role", ""),
            email=values.get("email") or None,
            phone=values.get("phone") or None,
        )

    def settlement(self, get: dict[str, Getter], row: Sequence[Any]) -> Settlement:
        values = {name: getter(row) for name, getter in get.items()}
        amount = values["amount"]
        if amount is None or amount <= 0:
            raise ConvertError("amount", amount, "a settlement amount must be positive")
        if values["settled_on"] is None:
            raise ConvertError("settled_on", None, "no settlement date")
        return Settlement(
            key=values["key"],
            invoice=values["invoice"],
            payment=values["payment"],
            amount=amount,
            settled_on=values["settled_on"],
        )

    def entry(self, get: dict[str, Getter], row: Sequence[Any]) -> Record:
        return self.entry_records(get)(row)

    def entry_records(
        self, get: dict[str, Getter]
    ) -> Callable[[Sequence[Any]], Record]:
        """``entry`` bound to ``get`` once, for every row of a query or file."""
        make = self.entry_maker(get)
        return lambda row: record(make(row))

    def entry_maker(self, get: dict[str, Getter]) -> Callable[[Sequence[Any]], Row]:
        """A function row -> staged Row (see documents.Row) for ``get``'s query.

        What ``entry`` gives, without the record: the getters are read in the
        mapping's field order (the first bad one is the one a Reject names), an
        absent optional field is empty.
        """
        key, customer, kind, date, amount = (
            get[name] for name in ("key", "customer", "kind", "date", "amount")
        )
        journal: Getter = get.get("journal", _empty)
        entry: Getter = get.get("entry", _empty)
        piece: Getter = get.get("piece", _empty)
        label: Getter = get.get("label", _empty)
        lettering: Getter = get.get("lettering", _empty)
        issued: Getter = get.get("issued", _none)
        due: Getter = get.get("due", _none)
        lettered_on: Getter = get.get("lettered_on", _none)
        document = self.documents.row

        def make(row: Sequence[Any]) -> Row:
            # The mapping's field order (spec.EntryFields): the first bad field
            # is the one a Reject names.
            k, who, what, day, money = (
                key(row),
                customer(row),
                kind(row),
                date(row),
                amount(row),
            )
            jo, en, pi, on, ech, la, le, le_on = (
                journal(row),
                entry(row),
                piece(row),
                issued(row),
                due(row),
                label(row),
                lettering(row),
                lettered_on(row),
            )
            if not who:
                raise ConvertError("customer", None, "no customer account")
            return document(
                what,
                k,
                LineCents(
                    0, jo, en, day, "", who, "", pi, on, la,
                    to_cents(money), le, le_on, "", None, ech,
                ),
            )  # fmt: skip

        return make


def _empty(_row: Sequence[Any]) -> str:
    return ""


def _none(_row: Sequence[Any]) -> None:
    return None


def compile_fields(
    spec: AnyStream,
    names: Sequence[str],
) -> dict[str, Getter]:
    """A getter per mapped field, bound to the query's column positions."""
    fields = spec.fields
    compiled: dict[str, Getter] = {}
    for name in type(fields).model_fields:
        ref: FieldRef | None = getattr(fields, name)
        if ref is not None:
            compiled[name] = compile_field(field_spec(ref), names)
    return compiled


def safe_key(getter: Getter, row: Sequence[Any]) -> str:
    try:
        return str(getter(row))
    except ConvertError:
        return "?"
