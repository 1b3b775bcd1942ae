"""Insurer decisions into the ``covers`` history: from dropped files and the source.

Files (``[credit] covers_folder``): every ``*.csv`` and ``*.json`` is read once,
in name order, then moved to ``done/`` (``*.part``, ``*.tmp`` and hidden files
are left alone: they are still being written). Each row is one decision on one
buyer; it is stored with ``origin='file'`` under a key made of what it says
(customer, insurer, limit, decision, reference, dates), so that the same
decision delivered again, in the same file or in a later one, is stored once.
A new decision is a new row: nothing is overwritten, the history stays.

CSV (``;`` or ``,``, UTF-8 with or without BOM, or cp1252), one header line;
columns are matched case- and accent-insensitively, French names accepted:

================  ===================================================
``customer``      ``client``, ``code``: the customer's code
``siren``         ``siret``: finds the customer when ``customer`` is empty
``insurer``       ``assureur``
``limit``         ``limite``, ``agrement``, ``montant`` (``12 500,00`` or ``12500.00``)
``decision``      see below; empty: approved, or refused for a zero limit
``reference``     ``numero``, ``ref``
``valid_from``    ``debut``, ``date_effet`` (YYYY-MM-DD or DD/MM/YYYY)
``valid_until``   ``fin``, ``echeance``
``currency``      ``devise``: when given, the company's currency
================  ===================================================

JSON (an insurer API export)::

    {"covers": [{"buyer": {"code": "C1", "siren": "552100554"},
                 "insurer": "Coface", "amount": "12500.00", "currency": "EUR",
                 "decision": "approved", "reference": "AG-1",
                 "effective_date": "2026-01-01", "expiry_date": "2026-12-31"}]}

Decisions are stored as approved, partial, provisional, reduced, refused or
cancelled. French words (accordé, agréé, partiel, provisoire, réduit, refusé,
annulé, résilié...) and the UN/EDIFACT 4507 response words (preliminary
assessment, approved, not approved, conditional approval, partly approved,
still investigating, open new account only, cancellation, reduction, close
buyer's account) are understood.

A bad row (unknown customer, bad amount, date or decision) is set aside as a
``Reject`` with its file, line (the CSV line; in JSON the 1-based position in the
list), field and reason; the other rows are stored.

The source (Sage ``CT_Assurance``, ``customers.insured_limit``) gives an insured
limit too: ``source_covers`` records it as an approved cover (``origin='source'``,
reference ``source``) each time it differs from the last one recorded, and a
limit set to zero or removed as a cancellation.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, insert, select

from sageconnect.clock import PARIS
from sageconnect.model.money import ZERO, parse_amount
from sageconnect.model.records import Reject
from sageconnect.store.tables import companies, covers, customers

DECISIONS = ("approved", "partial", "provisional", "reduced", "refused", "cancelled")
SOURCE_REFERENCE = "source"
SKIPPED_SUFFIXES = (".part", ".tmp")


def _words(text: str) -> str:
    """Lower case, no accents, words separated by one ``_``."""
    plain = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", "_", plain.lower()).strip("_")


_COLUMNS: dict[str, tuple[str, ...]] = {
    "customer": ("customer", "client", "code", "code_client", "customer_code"),
    "siren": ("siren", "siret"),
    "insurer": ("insurer", "assureur"),
    "limit": (
        "limit",
        "limite",
        "agrement",
        "montant",
        "amount",
        "credit_limit",
        "limite_de_credit",
        "montant_agrement",
    ),
    "decision": ("decision", "statut", "status"),
    "reference": ("reference", "numero", "ref", "numero_agrement"),
    "valid_from": ("valid_from", "debut", "date_effet", "date_debut", "effective_date"),
    "valid_until": ("valid_until", "fin", "echeance", "date_fin", "expiry_date"),
    "currency": ("currency", "devise"),
}
_ALIASES = {alias: name for name, aliases in _COLUMNS.items() for alias in aliases}

_DECISION_WORDS: dict[str, tuple[str, ...]] = {
    "approved": (
        "approved",
        "approval",
        "granted",
        "accepted",
        "accord",
        "accorde",
        "accordee",
        "agree",
        "agreee",
        "agrement",
        "valide",
        "validee",
    ),
    "partial": (
        "partial",
        "partially approved",
        "partly approved",
        "conditional approval",
        "partiel",
        "partielle",
        "accord partiel",
        "agrement partiel",
    ),
    "provisional": (
        "provisional",
        "preliminary assessment",
        "still investigating",
        "provisoire",
        "limite provisoire",
    ),
    "reduced": ("reduced", "reduction", "reduit", "reduite", "diminution"),
    "refused": (
        "refused",
        "not approved",
        "declined",
        "rejected",
        "open new account only",
        "refus",
        "refuse",
        "refusee",
        "non accorde",
    ),
    "cancelled": (
        "cancelled",
        "canceled",
        "cancellation",
        "withdrawn",
        "close buyer s account",
        "annule",
        "annulee",
        "annulation",
        "resilie",
        "resiliee",
        "resiliation",
        "retrait",
        "supprime",
        "suppression",
    ),
}
_DECISIONS = {
    _words(word): name for name, words in _DECISION_WORDS.items() for word in words
}


class _RowError(ValueError):
    """One field of a row that cannot be stored."""

    def __init__(self, field: str, value: str, reason: str) -> None:
        super().__init__(f"{field} = {value!r}: {reason}")
        self.field, self.value, self.reason = field, value, reason


@dataclass(frozen=True, slots=True)
class _Cell:
    """A value as the file gives it, with the name the file gives its field."""

    label: str
    text: str


@dataclass(frozen=True, slots=True)
class _Decision:
    customer_id: int
    customer: str
    insurer: str
    limit: Decimal
    decision: str
    reference: str
    valid_from: dt.date | None
    valid_until: dt.date | None

    @property
    def key(self) -> str:
        return cover_key(
            customer=self.customer,
            insurer=self.insurer,
            limit=self.limit,
            decision=self.decision,
            reference=self.reference,
            valid_from=self.valid_from,
            valid_until=self.valid_until,
        )


def cover_key(
    *,
    customer: str,
    insurer: str,
    limit: Decimal,
    decision: str,
    reference: str,
    valid_from: dt.date | None,
    valid_until: dt.date | None,
) -> str:
    """The ``source_key`` of a decision read from a file: what it says, hashed."""
    parts = (
        customer,
        insurer,
        f"{limit:.2f}",
        decision,
        reference,
        valid_from.isoformat() if valid_from else "",
        valid_until.isoformat() if valid_until else "",
    )
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:64]


# --- files ---


def import_covers(
    conn: Connection, company_id: int, folder: Path, now: dt.datetime
) -> tuple[int, list[Reject]]:
    """Store the decisions of every file in ``folder``; move each file read to done/.

    Returns how many decisions were new, and the rows set aside.
    """
    book = _Book.load(conn, company_id)
    added = 0
    rejects: list[Reject] = []
    for path in _files(folder):
        found, bad = _read(path, book)
        rejects += bad
        rows = []
        for decision in found:
            key = decision.key
            if key in book.keys:
                continue  # delivered before: stored once
            book.keys.add(key)
            rows.append(
                {
                    "company_id": company_id,
                    "customer_id": decision.customer_id,
                    "insurer": decision.insurer,
                    "limit_amount": decision.limit,
                    "decision": decision.decision,
                    "reference": decision.reference,
                    "valid_from": decision.valid_from,
                    "valid_until": decision.valid_until,
                    "origin": "file",
                    "source_key": key,
                    "recorded_at": now,
                }
            )
        if rows:
            conn.execute(insert(covers), rows)
        added += len(rows)
        done = folder / "done"
        done.mkdir(exist_ok=True)
        path.replace(done / path.name)
    return added, rejects


def _files(folder: Path) -> list[Path]:
    return sorted(
        (
            p
            for p in folder.iterdir()
            if p.is_file()
            and not p.name.startswith((".", "~"))
            and not p.name.lower().endswith(SKIPPED_SUFFIXES)
            and p.suffix.lower() in {".csv", ".json"}
        ),
        key=lambda p: p.name,
    )


@dataclass(slots=True)
class _Book:
    """What rows are checked against: the company's customers and known keys."""

    currency: str
    codes: dict[str, int]
    sirens: dict[str, list[str]]
    keys: set[str]

    @classmethod
    def load(cls, conn: Connection, company: int) -> _Book:
        currency = conn.execute(
            select(companies.c.currency).where(companies.c.id == company)
        ).scalar_one()
        codes: dict[str, int] = {}
        sirens: dict[str, list[str]] = {}
        for id_, code, siren in conn.execute(
            select(customers.c.id, customers.c.code, customers.c.siren)
            .where(
                customers.c.company_id == company,
                customers.c.closed_run_id.is_(None),
            )
            .order_by(customers.c.code)
        ):
            codes[code] = id_
            number = _siren(siren or "")
            if number:
                sirens.setdefault(number, []).append(code)
        keys = set(
            conn.execute(
                select(covers.c.source_key).where(covers.c.company_id == company)
            ).scalars()
        )
        return cls(currency, codes, sirens, keys)

    def customer(self, code: _Cell | None, siren: _Cell | None) -> tuple[int, str]:
        if code is not None and code.text:
            found = self.codes.get(code.text)
            if found is None:
                raise _RowError(code.label, code.text, "a customer of this company")
            return found, code.text
        if siren is None or not siren.text:
            label = code.label if code is not None else "customer"
            raise _RowError(label, "", "the customer's code, or its SIREN")
        number = _siren(siren.text)
        if not number:
            raise _RowError(siren.label, siren.text, "a SIREN (9 digits) or SIRET (14)")
        matches = self.sirens.get(number, [])
        if not matches:
            raise _RowError(siren.label, siren.text, "the SIREN of a customer")
        if len(matches) > 1:
            raise _RowError(
                siren.label,
                siren.text,
                f"the SIREN of several customers ({', '.join(matches)}): give the code",
            )
        return self.codes[matches[0]], matches[0]


def _siren(text: str) -> str:
    digits = re.sub(r"[\s.\-\u00a0\u202f]", "", text)
    if digits.isdigit() and len(digits) in (9, 14):
        return digits[:9]
    return ""


def _read(path: Path, book: _Book) -> tuple[list[_Decision], list[Reject]]:
    """The decisions a file gives, and its rows set aside."""
    try:
        if path.suffix.lower() == ".json":
            rows = list(_json_rows(path))
        else:
            rows = list(_csv_rows(path))
    except _RowError as exc:  # the whole file: its header (line 1), or not JSON
        return [], [
            Reject(
                where=path.name,
                line=0 if path.suffix.lower() == ".json" else 1,
                field=exc.field,
                value=exc.value,
                reason=exc.reason,
            )
        ]
    found: list[_Decision] = []
    rejects: list[Reject] = []
    for line, cells in rows:
        try:
            if isinstance(cells, _RowError):
                raise cells
            found.append(_decision(cells, book))
        except _RowError as exc:
            rejects.append(
                Reject(
                    where=path.name,
                    line=line,
                    field=exc.field,
                    value=exc.value,
                    reason=exc.reason,
                )
            )
    return found, rejects


Row = tuple[int, dict[str, _Cell] | _RowError]


def _csv_rows(path: Path) -> Iterator[Row]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    header = text.split("\n", 1)[0]
    delimiter = ";" if header.count(";") >= header.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    names = next(reader, [])
    columns: dict[str, tuple[int, str]] = {}
    for index, name in enumerate(names):
        canonical = _ALIASES.get(_words(name))
        if canonical is not None and canonical not in columns:
            columns[canonical] = (index, name.strip())
    expected = "customer (or siren), insurer, limit"
    if "customer" not in columns and "siren" not in columns:
        raise _RowError(
            "customer", "", f"no customer or siren column (expected: {expected})"
        )
    for needed in ("insurer", "limit"):
        if needed not in columns:
            raise _RowError(needed, "", f"no {needed} column (expected: {expected})")
    for values in reader:
        if not any(v.strip() for v in values):
            continue
        cells = {
            name: _Cell(label, values[index].strip() if index < len(values) else "")
            for name, (index, label) in columns.items()
        }
        yield reader.line_num, cells


_JSON_FIELDS = {
    "insurer": "insurer",
    "limit": "amount",
    "currency": "currency",
    "decision": "decision",
    "reference": "reference",
    "valid_from": "effective_date",
    "valid_until": "expiry_date",
}


def _json_rows(path: Path) -> Iterator[Row]:
    try:
        data = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _RowError("file", "", f"not JSON: {exc}") from None
    items = data.get("covers") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise _RowError("covers", "", 'a JSON list of covers: {"covers": [...]}')
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            yield number, _RowError("covers", _text(item), "a cover: a JSON object")
            continue
        buyer = item.get("buyer")
        buyer = buyer if isinstance(buyer, dict) else {}
        cells = {
            "customer": _Cell("buyer.code", _text(buyer.get("code"))),
            "siren": _Cell("buyer.siren", _text(buyer.get("siren"))),
        }
        cells |= {
            name: _Cell(key, _text(item.get(key))) for name, key in _JSON_FIELDS.items()
        }
        yield number, cells


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool | dict | list):
        return json.dumps(value)
    return str(value)


def _decision(cells: Mapping[str, _Cell], book: _Book) -> _Decision:
    customer_id, code = book.customer(cells.get("customer"), cells.get("siren"))
    insurer = cells["insurer"]
    if not insurer.text:
        raise _RowError(insurer.label, "", "the insurer's name")
    currency = cells.get("currency")
    if (
        currency is not None
        and currency.text
        and currency.text.upper() != book.currency
    ):
        raise _RowError(
            currency.label, currency.text, f"a limit in {book.currency}, the books'"
        )
    limit = _limit(cells["limit"])
    decision = _decision_word(cells.get("decision"), limit)
    if decision == "":
        raise _RowError(cells["limit"].label, "", "the limit, or a decision")
    if limit is None:
        if decision not in ("refused", "cancelled"):
            raise _RowError(
                cells["limit"].label, "", f"the limit (the decision is {decision})"
            )
        limit = ZERO
    start = _date(cells.get("valid_from"))
    until = _date(cells.get("valid_until"))
    if start is not None and until is not None and until < start:
        label = cells["valid_until"].label
        raise _RowError(label, cells["valid_until"].text, f"a date from {start} on")
    reference = cells.get("reference")
    return _Decision(
        customer_id=customer_id,
        customer=code,
        insurer=insurer.text,
        limit=limit,
        decision=decision,
        reference=reference.text if reference is not None else "",
        valid_from=start,
        valid_until=until,
    )


def _limit(cell: _Cell) -> Decimal | None:
    text = cell.text.replace("\u202f", "").replace("€", "").strip()
    if not text:
        return None
    try:
        value = parse_amount(text)
    except ValueError as exc:
        raise _RowError(
            cell.label, cell.text, f"an amount such as 12 500,00 ({exc})"
        ) from None
    if value < 0:
        raise _RowError(cell.label, cell.text, "an amount of zero or more")
    return value


def _decision_word(cell: _Cell | None, limit: Decimal | None) -> str:
    if cell is None or not cell.text:  # a portfolio of limits: zero is a refusal
        return "" if limit is None else ("approved" if limit else "refused")
    found = _DECISIONS.get(_words(cell.text))
    if found is None:
        raise _RowError(cell.label, cell.text, f"a decision: {', '.join(DECISIONS)}")
    return found


def _date(cell: _Cell | None) -> dt.date | None:
    if cell is None or not cell.text:
        return None
    text = cell.text
    if len(text) > 10 and text[10] in "T ":  # noqa: PLR2004 - an ISO date-time
        text = text[:10]
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a day
        except ValueError:
            continue
    raise _RowError(cell.label, cell.text, "a date (YYYY-MM-DD or DD/MM/YYYY)")


# --- the source's insured limit ---


def source_covers(
    conn: Connection, company_id: int, insurer: str, now: dt.datetime
) -> int:
    """Record the source's insured limits (Sage ``CT_Assurance``) as covers.

    A customer's insured limit is recorded as an approved cover of ``insurer``
    when it differs from the last one recorded from the source; a limit that
    went to zero or away is recorded as a cancellation. Running it again
    records nothing. Returns how many covers were recorded.
    """
    last: dict[int, tuple[int, Decimal, str]] = {}
    for id_, customer_id, limit, decision in conn.execute(
        select(
            covers.c.id,
            covers.c.customer_id,
            covers.c.limit_amount,
            covers.c.decision,
        )
        .where(covers.c.company_id == company_id, covers.c.origin == "source")
        .order_by(covers.c.id)
    ):
        last[customer_id] = (id_, limit, decision)
    day = now.astimezone(PARIS).date()
    rows = []
    for customer_id, code, insured in conn.execute(
        select(customers.c.id, customers.c.code, customers.c.insured_limit)
        .where(
            customers.c.company_id == company_id,
            customers.c.closed_run_id.is_(None),
        )
        .order_by(customers.c.code)
    ):
        before = last.get(customer_id)
        if insured is not None and insured > 0:
            want = (insured, "approved")
        elif before is not None:
            want = (ZERO, "cancelled")
        else:
            continue
        if before is not None and (before[1], before[2]) == want:
            continue
        after = before[0] if before is not None else 0
        parts = ("source", code, insurer, f"{want[0]:.2f}", want[1], f"after:{after}")
        rows.append(
            {
                "company_id": company_id,
                "customer_id": customer_id,
                "insurer": insurer,
                "limit_amount": want[0],
                "decision": want[1],
                "reference": SOURCE_REFERENCE,
                "valid_from": day,
                "valid_until": None,
                "origin": "source",
                "source_key": hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[
                    :64
                ],
                "recorded_at": now,
            }
        )
    if rows:
        conn.execute(insert(covers), rows)
    return len(rows)
