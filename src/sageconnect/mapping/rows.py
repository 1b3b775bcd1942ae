"""Rows (from a query or a file) into canonical records, through a mapping's fields."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sageconnect.mapping.convert import ConvertError, Getter, compile_field, field_spec
from sageconnect.mapping.documents import DocumentMaker
from sageconnect.mapping.ledger_line import LedgerLine
from sageconnect.mapping.spec import (
    AnyStream,
    FieldRef,
)
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
        values = {name: getter(row) for name, getter in get.items()}
        date: dt.date = values["date"]
        line = LedgerLine(
            line=0,
            journal=values.get("journal", ""),
            entry=values.get("entry", ""),
            date=date,
            account="",
            customer=values["customer"],
            customer_name="",
            piece=values.get("piece", ""),
            piece_date=values.get("issued"),
            label=values.get("label", ""),
            amount=values["amount"],
            lettering=values.get("lettering", ""),
            lettered_on=values.get("lettered_on"),
            currency="",
            currency_amount=None,
            due=values.get("due"),
        )
        if not line.customer:
            raise ConvertError("customer", None, "no customer account")
        return self.documents.make(values["kind"], values["key"], line)


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
