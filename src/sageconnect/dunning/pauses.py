"""Disputes, payment promises and holds: entered by the credit team, kept as history.

From the command line (``sageconnect dispute|promise|hold add|list|resolve``) or
from CSV files dropped in ``[dunning] pauses_folder``: one row per pause,
``action;customer;invoice;reason;until;amount;by`` (``;`` or ``,``, UTF-8 or
cp1252), read once each (the file name and line are its key), then moved to
``done/``. A bad row is set aside with its file, line, field and reason.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from sageconnect.model.records import Reject
from sageconnect.store.tables import customers, invoices, pauses

KINDS = ("dispute", "promise", "hold")
COLUMNS = ("action", "customer", "invoice", "reason", "until", "amount", "by")


class PauseError(ValueError):
    """A pause that cannot be recorded, with the field at fault."""

    def __init__(self, field: str, value: str, reason: str) -> None:
        super().__init__(f"{field} = {value!r}: {reason}")
        self.field, self.value, self.reason = field, value, reason


@dataclass(frozen=True, slots=True)
class PauseRow:
    id: int
    kind: str
    customer: str
    invoice: str
    reason: str
    until: dt.date | None
    amount: Decimal | None
    created_by: str
    created_at: dt.datetime
    origin: str
    resolution: str


def add(
    conn: Connection,
    company: int,
    *,
    kind: str,
    customer: str,
    invoice: str | None,
    reason: str,
    until: dt.date | None,
    amount: Decimal | None,
    by: str,
    now: dt.datetime,
    origin: str = "cli",
    external_key: str | None = None,
) -> int | None:
    """Record a pause; its id, or None when this external key was read before."""
    if kind not in KINDS:
        raise PauseError("action", kind, f"one of {', '.join(KINDS)}")
    if not reason.strip():
        raise PauseError("reason", reason, "a reason (who asked, why)")
    if kind == "promise" and until is None:
        raise PauseError("until", "", "the date the customer promised to pay by")
    found = conn.execute(
        select(customers.c.id).where(
            customers.c.company_id == company,
            customers.c.code == customer,
            customers.c.closed_run_id.is_(None),
        )
    ).scalar()
    if found is None:
        raise PauseError("customer", customer, "a customer of this company")
    invoice_id = None
    if invoice:
        invoice_id = conn.execute(
            select(invoices.c.id).where(
                invoices.c.company_id == company,
                invoices.c.customer_id == found,
                invoices.c.number == invoice,
                invoices.c.closed_run_id.is_(None),
            )
        ).scalar()
        if invoice_id is None:
            raise PauseError("invoice", invoice, f"an invoice number of {customer}")
    elif kind == "dispute":
        raise PauseError("invoice", "", "the disputed invoice's number")
    try:
        with conn.begin_nested():
            return int(
                conn.execute(
                    insert(pauses).values(
                        company_id=company,
                        customer_id=found,
                        invoice_id=invoice_id,
                        kind=kind,
                        reason=reason.strip(),
                        amount=amount,
                        until=until,
                        created_by=by,
                        created_at=now,
                        origin=origin,
                        external_key=external_key,
                    )
                ).inserted_primary_key[0]  # type: ignore[index]
            )
    except IntegrityError:
        if external_key is None:
            raise
        return None  # this file line was read before


def resolve(
    conn: Connection,
    company: int,
    pause_id: int,
    *,
    by: str,
    now: dt.datetime,
    kind: str | None = None,
    resolution: str = "resolved",
) -> bool:
    """Resolve an open pause (of ``kind`` when given); False if there is none."""
    done = conn.execute(
        update(pauses)
        .where(
            pauses.c.company_id == company,
            pauses.c.id == pause_id,
            pauses.c.resolved_at.is_(None),
            pauses.c.kind == kind if kind else pauses.c.id.is_not(None),
        )
        .values(resolved_at=now, resolved_by=by, resolution=resolution)
    ).rowcount
    return done == 1


def listing(
    conn: Connection, company: int, *, kind: str | None, everything: bool
) -> list[PauseRow]:
    query = (
        select(
            pauses.c.id,
            pauses.c.kind,
            customers.c.code,
            invoices.c.number,
            pauses.c.reason,
            pauses.c.until,
            pauses.c.amount,
            pauses.c.created_by,
            pauses.c.created_at,
            pauses.c.origin,
            pauses.c.resolution,
        )
        .join(customers, customers.c.id == pauses.c.customer_id)
        .outerjoin(invoices, invoices.c.id == pauses.c.invoice_id)
        .where(pauses.c.company_id == company)
        .order_by(pauses.c.id)
    )
    if kind:
        query = query.where(pauses.c.kind == kind)
    if not everything:
        query = query.where(pauses.c.resolved_at.is_(None))
    return [
        PauseRow(i, k, c, n or "", r, u, a, b, t, o, res or "")
        for i, k, c, n, r, u, a, b, t, o, res in conn.execute(query)
    ]


def break_promises(
    conn: Connection, company: int, today: dt.date, now: dt.datetime
) -> list[PauseRow]:
    """Promises whose day has passed: noted broken; dunning resumes for them."""
    late = [
        p
        for p in listing(conn, company, kind="promise", everything=False)
        if p.until is not None and p.until < today
    ]
    for p in late:
        resolve(
            conn,
            company,
            p.id,
            by="sageconnect",
            now=now,
            kind="promise",
            resolution="broken",
        )
    return late


def import_folder(
    conn: Connection,
    company: str,
    company_id: int,
    folder: Path,
    now: dt.datetime,
    *,
    companies: tuple[str, ...] = (),
) -> tuple[int, list[Reject]]:
    """Read every CSV in ``folder`` meant for ``company``; move each read file to done/.

    A file is for the company whose code, followed by ``-`` or ``_``, starts its
    name (``acme-litiges.csv``); the longest such code wins among ``companies``
    (``acme-2-litiges.csv`` is acme-2's, not acme's). Returns how many pauses
    were added, and the rows set aside (their file as ``pauses/<name>``).
    """
    added = 0
    rejects: list[Reject] = []
    for path in sorted(folder.glob("*.csv")):
        if _owner(path, companies or (company,)) != company:
            continue
        count, bad = _import_file(conn, company_id, path, now)
        added += count
        rejects += bad
        done = folder / "done"
        done.mkdir(exist_ok=True)
        path.replace(done / path.name)
    return added, rejects


def _owner(path: Path, companies: tuple[str, ...]) -> str | None:
    name = path.name.lower()
    owners = [
        code
        for code in companies
        if any(name.startswith(f"{code.lower()}{sep}") for sep in "-_")
    ]
    return max(owners, key=len) if owners else None


def _import_file(
    conn: Connection, company: int, path: Path, now: dt.datetime
) -> tuple[int, list[Reject]]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    delimiter = ";" if text.count(";") >= text.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    missing = [
        c
        for c in ("action", "customer", "reason")
        if c not in (reader.fieldnames or [])
    ]
    if missing:
        return 0, [
            Reject(
                where=f"pauses/{path.name}",
                line=1,
                field=missing[0],
                reason=f"no {missing[0]} column (expected: {', '.join(COLUMNS)})",
            )
        ]
    added = 0
    rejects = []
    for number, row in enumerate(reader, start=2):
        try:
            new = add(
                conn,
                company,
                kind=(row.get("action") or "").strip().lower(),
                customer=(row.get("customer") or "").strip(),
                invoice=(row.get("invoice") or "").strip() or None,
                reason=row.get("reason") or "",
                until=_date(row.get("until") or ""),
                amount=_amount(row.get("amount") or ""),
                by=(row.get("by") or "").strip() or f"csv:{path.name}",
                now=now,
                origin="csv",
                external_key=f"{path.name}:{number}",
            )
        except PauseError as exc:
            rejects.append(
                Reject(
                    where=f"pauses/{path.name}",
                    line=number,
                    field=exc.field,
                    value=exc.value,
                    reason=exc.reason,
                )
            )
            continue
        added += new is not None
    return added, rejects


def _date(text: str) -> dt.date | None:
    text = text.strip()
    if not text:
        return None
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a day
        except ValueError:
            continue
    raise PauseError("until", text, "a date (YYYY-MM-DD or DD/MM/YYYY)")


def _amount(text: str) -> Decimal | None:
    text = text.strip().replace(" ", "").replace("\u00a0", "").replace(",", ".")
    if not text:
        return None
    try:
        return Decimal(text).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise PauseError("amount", text, "an amount such as 1234,56") from None
