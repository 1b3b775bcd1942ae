"""Rows set aside, kept once each: a re-run of the same file adds none."""

from __future__ import annotations

from sqlalchemy import Connection, insert, not_, select, update

from sageconnect.model.records import Reject
from sageconnect.store.tables import rejects, sync_runs

RejectKey = tuple[str, int, str, str]
# Rejects of side sources carry their folder first ("bank/releve.xml"): a full
# read of the ledger does not resolve them, nor a full read of one of them another.
SIDE_SOURCES = ("bank/", "pauses/", "covers/")


def record_rejects(
    conn: Connection,
    company: int,
    run: int,
    found: list[Reject],
    *,
    complete: bool,
    scope: str | None = None,
) -> int:
    """Store this run's rejects, resolve those gone; return how many are new.

    ``complete``: the read saw everything of its source, so a reject not seen
    again is resolved: the ledger's (``scope`` None), or one side source's
    (``scope`` = its prefix, e.g. "bank/").
    """
    existing: dict[RejectKey, int] = {
        (r.source, r.line, r.field, r.reason): r.id
        for r in conn.execute(
            select(
                rejects.c.id,
                rejects.c.source,
                rejects.c.line,
                rejects.c.field,
                rejects.c.reason,
            ).where(rejects.c.company_id == company)
        )
    }
    new_rows = []
    seen_ids = []
    for reject in found:
        key = (
            reject.where[:500],
            reject.line or 0,
            (reject.field or "")[:64],
            reject.reason[:300],
        )
        if key in existing:
            seen_ids.append(existing[key])
            continue
        existing[key] = -1
        new_rows.append(
            {
                "company_id": company,
                "source": key[0],
                "line": key[1],
                "field": key[2],
                "value": (reject.value or "")[:200],
                "reason": key[3],
                "first_run_id": run,
                "last_run_id": run,
            }
        )
    if new_rows:
        conn.execute(insert(rejects), new_rows)
    for start in range(0, len(seen_ids), 500):
        conn.execute(
            update(rejects)
            .where(rejects.c.id.in_(seen_ids[start : start + 500]))
            .values(last_run_id=run, resolved_run_id=None)
        )
    if complete:  # only a full read can tell that a row is no longer bad
        mine = (
            [rejects.c.source.startswith(scope, autoescape=True)]
            if scope
            else [
                not_(rejects.c.source.startswith(side, autoescape=True))
                for side in SIDE_SOURCES
            ]
        )
        conn.execute(
            update(rejects)
            .where(
                rejects.c.company_id == company,
                rejects.c.last_run_id != run,
                rejects.c.resolved_run_id.is_(None),
                *mine,
            )
            .values(resolved_run_id=run)
        )
    return len(new_rows)


def record_side_rejects(conn: Connection, company: int, found: list[Reject]) -> int:
    """Keep rows a side source (pauses, covers) set aside, under the company's
    latest sync run; they stay open until fixed by hand. Returns how many are new."""
    run = conn.execute(
        select(sync_runs.c.id)
        .where(sync_runs.c.company_id == company)
        .order_by(sync_runs.c.id.desc())
    ).scalar()
    if not found or run is None:
        return 0
    return record_rejects(conn, company, run, found, complete=False)
