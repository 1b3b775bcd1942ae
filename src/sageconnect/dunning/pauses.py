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
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from sageconnect.ledger.matching import METHODS
from sageconnect.model.records import Reject
from sageconnect.store.matching import rematch
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
    methods: Sequence[str] = METHODS,
    disputed: set[int] | None = None,
) -> int | None:
    """Record a pause; its id, or None when this external key was read before.

    An invoice number the ledger holds as several rows (instalments) pauses
    them all. A dispute matches the customer's unlettered payments again (with
    the company's ``methods``): a payment without a reference goes to what the
    customer does not contest. With ``disputed``, the customer is added to it
    instead, for the caller to match them all again at once.
    """
    if kind not in KINDS:
        raise PauseError("action", kind, f"one of {', '.join(KINDS)}")
    if not reason.strip():
        raise PauseError("reason", reason, "a reason (who asked, why)")
    if kind == "promise" and until is None:
        raise PauseError("until", "", "the date the customer promised to pay by")
    found, targets = _targets(conn, company, customer, invoice, kind)
    ids = []
    try:
        with conn.begin_nested():
            for n, invoice_id in enumerate(targets):
                key = external_key if n == 0 or external_key is None else None
                ids.append(
                    conn.execute(
                        insert(pauses).values(
                            company_id=company,
                            customer_id=found,
                            invoice_id=invoice_id,
                            kind=kind,
                            reason=reason.strip(),
                            amount=amount if n == 0 else None,
                            until=until,
                            created_by=by,
                            created_at=now,
                            origin=origin,
                            external_key=key,
                        )
                    ).inserted_primary_key[0]  # type: ignore[index]
                )
    except IntegrityError:
        if external_key is None:
            raise
        return None  # this file line was read before
    if kind == "dispute":
        if disputed is None:
            rematch(conn, company, [found], methods)
        else:
            disputed.add(found)
    return int(ids[0])


def _targets(
    conn: Connection, company: int, customer: str, invoice: str | None, kind: str
) -> tuple[int, list[int | None]]:
    """The customer's id and the invoice rows a pause covers (None: all of them)."""
    found = conn.execute(
        select(customers.c.id).where(
            customers.c.company_id == company,
            customers.c.code == customer,
            customers.c.closed_run_id.is_(None),
        )
    ).scalar()
    if found is None:
        raise PauseError("customer", customer, "a customer of this company")
    if not invoice:
        if kind == "dispute":
            raise PauseError("invoice", "", "the disputed invoice's number")
        return found, [None]
    rows: list[int | None] = list(
        conn.execute(
            select(invoices.c.id)
            .where(
                invoices.c.company_id == company,
                invoices.c.customer_id == found,
                invoices.c.number == invoice,
                invoices.c.amount > Decimal(0),
                invoices.c.closed_run_id.is_(None),
            )
            .order_by(invoices.c.id)
        ).scalars()
    )
    if not rows:
        raise PauseError("invoice", invoice, f"an invoice number of {customer}")
    return found, rows


def resolve(
    conn: Connection,
    company: int,
    pause_id: int,
    *,
    by: str,
    now: dt.datetime,
    kind: str | None = None,
    resolution: str = "resolved",
    methods: Sequence[str] = METHODS,
) -> bool:
    """Resolve an open pause (of ``kind`` when given); False if there is none.

    Its sibling rows (the other instalments of the same invoice number, entered
    together) are resolved with it.
    """
    row = conn.execute(
        select(pauses.c.customer_id, pauses.c.kind, pauses.c.created_at).where(
            pauses.c.company_id == company, pauses.c.id == pause_id
        )
    ).first()
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
    if done != 1 or row is None:
        return False
    conn.execute(  # the other rows of the same entry (instalments)
        update(pauses)
        .where(
            pauses.c.company_id == company,
            pauses.c.customer_id == row.customer_id,
            pauses.c.kind == row.kind,
            pauses.c.created_at == row.created_at,
            pauses.c.resolved_at.is_(None),
        )
        .values(resolved_at=now, resolved_by=by, resolution=resolution)
    )
    if row.kind == "dispute":
        rematch(conn, company, [row.customer_id], methods)
    return True


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
    methods: Sequence[str] = METHODS,
) -> tuple[int, list[Reject]]:
    """Read every CSV in ``folder`` meant for ``company``; move each read file to done/.

    A file is for the company whose code, followed by ``-`` or ``_``, starts its
    name (``acme-litiges.csv``); the longest such code wins among ``companies``
    (``acme-2-litiges.csv`` is acme-2's, not acme's). Returns how many pauses
    were added, and the rows set aside (their file as ``pauses/<name>``).
    The customers of a file's disputes are matched again once the file is
    read, with the company's matching ``methods``.
    """
    added = 0
    rejects: list[Reject] = []
    for path in sorted(folder.glob("*.csv")):
        if _owner(path, companies or (company,)) != company:
            continue
        count, bad = _import_file(conn, company_id, path, now, methods)
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
    conn: Connection,
    company: int,
    path: Path,
    now: dt.datetime,
    methods: Sequence[str],
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
    disputed: set[int] = set()
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
                disputed=disputed,
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
    if disputed:
        rematch(conn, company, disputed, methods)
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
