"""Allocations the source states itself (Sage F_REGLECH), kept as the source says.

They replace, key by key, what an earlier read stored; a complete read replaces
them all, so that allocations undone in the source go away.
"""

from __future__ import annotations

from sqlalchemy import Connection, bindparam, text

from sageconnect.model.records import Reject
from sageconnect.store.bulk import referenced

_RESOLVED = """
SELECT s.key, i.customer_id, i.id, p.id, s.amount,
       CASE WHEN i.issued >= s.settled_on AND i.issued >= p.received THEN i.issued
            WHEN p.received >= s.settled_on THEN p.received
            ELSE s.settled_on END
FROM stage_settlements s
JOIN invoices i ON i.company_id = :company AND i.key = s.invoice
  AND i.closed_run_id IS NULL AND i.amount > 0
JOIN payments p ON p.company_id = :company AND p.key = s.payment
  AND p.closed_run_id IS NULL AND p.customer_id = i.customer_id
"""
_UNRESOLVED = """
SELECT s.key, s.invoice, s.payment FROM stage_settlements s
WHERE NOT EXISTS (SELECT 1 FROM invoices i JOIN payments p
  ON p.company_id = i.company_id AND p.customer_id = i.customer_id
  WHERE i.company_id = :company AND i.key = s.invoice AND i.amount > 0
  AND i.closed_run_id IS NULL AND p.key = s.payment AND p.closed_run_id IS NULL)
ORDER BY s.key
"""


def settle(
    conn: Connection, company: int, *, complete: bool
) -> tuple[int, list[Reject], set[int]]:
    """Store the staged settlements.

    Returns how many were stored, those naming no known pair, and the customers
    whose stated allocations may have changed (to match again).
    """
    params = {"company": company}
    scope = "" if complete else " AND key IN (SELECT key FROM stage_settlements)"
    affected = _customers(conn, company, scope)
    if complete:
        conn.execute(
            text(
                "DELETE FROM allocations"
                " WHERE company_id = :company AND key IS NOT NULL"
            ),
            params,
        )
    else:
        conn.execute(
            text(
                "DELETE FROM allocations WHERE company_id = :company"
                " AND key IN (SELECT key FROM stage_settlements)"
            ),
            params,
        )
    with referenced(conn):  # ids from the join with invoices and payments
        inserted = conn.execute(
            text(
                "INSERT INTO allocations (company_id, key, customer_id, invoice_id,"
                " payment_id, amount, allocated_on, origin)"
                f" SELECT :company, r.* , 'source' FROM ({_RESOLVED}) r"
            ),
            params,
        ).rowcount
    unresolved = [
        Reject(
            where=f"allocations/{key}",
            field="invoice",
            value=f"{invoice} <- {payment}",
            reason="names an invoice or payment the source did not give,"
            " or of another customer",
        )
        for key, invoice, payment in conn.execute(text(_UNRESOLVED), params)
    ]
    excess = _over_allocated(conn, company)
    affected |= _customers(conn, company, scope)
    return inserted - len(excess), unresolved + excess, affected


def _customers(conn: Connection, company: int, scope: str) -> set[int]:
    sql = (
        "SELECT DISTINCT customer_id FROM allocations"
        " WHERE company_id = :company AND key IS NOT NULL" + scope
    )
    return set(conn.execute(text(sql), {"company": company}).scalars())


_OVER = """
SELECT a.key, a.amount FROM allocations a
WHERE a.company_id = :company AND a.key IS NOT NULL AND (
  a.invoice_id IN (
    SELECT x.invoice_id FROM allocations x JOIN invoices i ON i.id = x.invoice_id
    WHERE x.company_id = :company AND x.origin NOT LIKE 'match:%'
    GROUP BY x.invoice_id, i.amount
    HAVING SUM(x.amount) > i.amount)
  OR a.payment_id IN (
    SELECT x.payment_id FROM allocations x JOIN payments p ON p.id = x.payment_id
    WHERE x.company_id = :company AND x.origin NOT LIKE 'match:%'
    GROUP BY x.payment_id, p.amount
    HAVING SUM(x.amount) > p.amount))
ORDER BY a.key
"""


def _over_allocated(conn: Connection, company: int) -> list[Reject]:
    """Stated allocations on an invoice or payment allocated beyond its amount.

    The source contradicts itself there: rather than hide other open items, those
    allocations are set aside and the items stay open, for someone to look at.
    Our own matches do not count: they are computed again afterwards.
    """
    params = {"company": company}
    rows = conn.execute(text(_OVER), params).all()
    if rows:
        conn.execute(
            text(
                "DELETE FROM allocations WHERE company_id = :company AND key IN :keys"
            ).bindparams(bindparam("keys", expanding=True)),
            {**params, "keys": [key for key, _ in rows]},
        )
    return [
        Reject(
            where=f"allocations/{key}",
            field="amount",
            value=str(amount),
            reason="settles more than the due line or payment has: the items stay open",
        )
        for key, amount in rows
    ]
