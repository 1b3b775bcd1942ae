"""A contacts file for sources that carry none (a FEC has no e-mail or phone).

``[companies.X] contacts = "contacts.csv"``: one row per customer, columns
``customer;email;phone;contact;language;address;consumer`` (``;`` or ``,``;
address lines separated by ``|``; ``consumer`` oui/non: a consumer debtor owes
no B2B penalties nor the EUR 40 indemnity). What it gives wins over the source:
it is the integrator's explicit choice of whom to remind.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, replace
from email.errors import HeaderParseError
from email.headerregistry import Address
from pathlib import Path

from sageconnect.dunning.planner import Debtor
from sageconnect.errors import SourceUnavailable
from sageconnect.model.records import Reject


@dataclass(frozen=True, slots=True)
class Contact:
    email: str
    phone: str
    name: str
    language: str
    address: tuple[str, ...]
    consumer: bool | None = None  # None: as the source says


def read_contacts(path: Path) -> tuple[dict[str, Contact], list[Reject]]:
    """The file's contacts by customer code, and the rows set aside."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SourceUnavailable(str(path), f"contacts file: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    delimiter = ";" if text.count(";") >= text.count(",") else ","
    found: dict[str, Contact] = {}
    rejects: list[Reject] = []
    for number, row in enumerate(
        csv.DictReader(io.StringIO(text), delimiter=delimiter), 2
    ):
        code = (row.get("customer") or "").strip()
        email = (row.get("email") or "").strip()
        if not code:
            rejects.append(
                Reject(
                    where=path.name,
                    line=number,
                    field="customer",
                    value="",
                    reason="no customer code",
                )
            )
            continue
        if email and not _valid(email):
            rejects.append(
                Reject(
                    where=path.name,
                    line=number,
                    field="email",
                    value=email,
                    reason="not an e-mail address",
                )
            )
            continue
        found[code] = Contact(
            email=email,
            phone=(row.get("phone") or "").strip(),
            name=(row.get("contact") or "").strip(),
            language=(row.get("language") or "").strip().lower(),
            consumer=_flag(row.get("consumer")),
            address=tuple(
                part.strip()
                for part in (row.get("address") or "").split("|")
                if part.strip()
            ),
        )
    return found, rejects


def _flag(value: str | None) -> bool | None:
    text = (value or "").strip().lower()
    if text in {"1", "yes", "oui", "true", "vrai", "x"}:
        return True
    if text in {"0", "no", "non", "false", "faux"}:
        return False
    return None


def _valid(email: str) -> bool:
    if any(c in email for c in "\r\n\0 ,;<>"):
        return False
    try:
        address = Address(addr_spec=email)
    except (ValueError, IndexError, HeaderParseError):
        return False
    return bool(address.username and "." in address.domain)


def overlay(debtors: list[Debtor], contacts: dict[str, Contact]) -> list[Debtor]:
    """The debtors with what the contacts file says about them."""
    result = []
    for debtor in debtors:
        c = contacts.get(debtor.code)
        if c is None:
            result.append(debtor)
            continue
        result.append(
            replace(
                debtor,
                email=c.email or debtor.email,
                phone=c.phone or debtor.phone,
                contact_name=c.name or debtor.contact_name,
                language=c.language or debtor.language,
                address=c.address or debtor.address,
                consumer=debtor.consumer if c.consumer is None else c.consumer,
            )
        )
    return result
