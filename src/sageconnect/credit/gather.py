"""Read what the alert rules need from the store: buyers, covers, open invoices."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from sqlalchemy import Connection, or_, select

from sageconnect.credit.alerts import Buyer, Cover, Invoice
from sageconnect.store.open_items import open_items
from sageconnect.store.queries import balances
from sageconnect.store.tables import covers, customers, invoices, pauses


def cover_history(
    conn: Connection, company: int, as_of: dt.date
) -> dict[str, list[Cover]]:
    """Each customer's insurer decisions in force by ``as_of``, oldest first.

    The insurer's own decisions (files) are the reference: where a customer has
    any, the source's insured limit (Sage ``CT_Assurance``) is not used for it.
    """
    rows = conn.execute(
        select(
            customers.c.code,
            covers.c.insurer,
            covers.c.limit_amount,
            covers.c.decision,
            covers.c.reference,
            covers.c.valid_from,
            covers.c.valid_until,
            covers.c.origin,
        )
        .join(customers, customers.c.id == covers.c.customer_id)
        .where(covers.c.company_id == company)
        .order_by(
            customers.c.code, covers.c.valid_from.asc().nulls_first(), covers.c.id
        )
    )
    history: dict[str, list[Cover]] = defaultdict(list)
    from_file: set[str] = set()
    found = []
    for code, insurer, limit, decision, reference, start, until, origin in rows:
        if start is not None and start > as_of:
            continue  # a decision that takes effect later is not the current one
        if origin == "file":
            from_file.add(code)
        found.append((code, origin, insurer, limit, decision, reference, start, until))
    for code, origin, insurer, limit, decision, reference, start, until in found:
        if code in from_file and origin != "file":
            continue
        history[code].append(
            Cover(
                insurer=insurer,
                limit=limit,
                decision=decision,
                reference=reference,
                valid_from=start,
                valid_until=until,
            )
        )
    return history


def buyers(
    conn: Connection, company: int, as_of: dt.date, insurer: str = ""
) -> list[Buyer]:
    """Every customer with its exposure, credit limit and current cover.

    Without an insurer decision on file, the source's insured limit (Sage
    ``CT_Assurance``) stands as an approved cover of ``insurer``.
    """
    zero = Decimal("0.00")
    exposure = {
        b.code: max(b.ledger_balance, zero) for b in balances(conn, company, as_of)
    }
    history = cover_history(conn, company, as_of)
    found = []
    for code, name, credit_limit, insured in conn.execute(
        select(
            customers.c.code,
            customers.c.name,
            customers.c.credit_limit,
            customers.c.insured_limit,
        ).where(customers.c.company_id == company, customers.c.closed_run_id.is_(None))
    ):
        decisions = history.get(code, [])
        cover = decisions[-1] if decisions else None
        previous = decisions[-2] if len(decisions) > 1 else None
        if cover is None and insured is not None and insured > 0:
            cover = Cover(
                insurer=insurer or "insurer", limit=insured, reference="source"
            )
        found.append(
            Buyer(
                code=code,
                name=name,
                exposure=exposure.get(code, zero),
                credit_limit=credit_limit,
                cover=cover,
                previous=previous,
            )
        )
    return found


def open_invoices(conn: Connection, company: int, as_of: dt.date) -> list[Invoice]:
    """Open invoices, with whether a dispute open on ``as_of`` covers them."""
    disputed = set(
        conn.execute(
            select(invoices.c.key)
            .join(pauses, pauses.c.invoice_id == invoices.c.id)
            .where(
                pauses.c.company_id == company,
                pauses.c.kind == "dispute",
                pauses.c.resolved_at.is_(None),
                # a dispute with an end ends then, as dunning resumes then
                or_(pauses.c.until.is_(None), pauses.c.until >= as_of),
            )
        ).scalars()
    )
    return [
        Invoice(
            customer=o.customer,
            key=o.key,
            number=o.number,
            issued=o.issued,
            due=o.due or o.issued,
            open=o.open,
            disputed=o.key in disputed,
        )
        for o in open_items(conn, company, as_of)
        if o.kind != "payment" and o.open > 0
    ]
