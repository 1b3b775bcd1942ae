"""The digests a re-sync starts from: the store's, distinct, sorted, per company."""

from __future__ import annotations

import random
import uuid
from array import array

from sqlalchemy import Engine, insert

from sageconnect.store import digests
from sageconnect.store.sync import ensure_company
from sageconnect.store.tables import source_entries


def test_load_gives_each_known_digest_once_in_order(engine: Engine) -> None:
    """An entry that gave several records has a row per record: its digest is
    known once. Volatile entries (digest 0) and other companies' are not known;
    a digest seen again is not gone, the others are."""
    ours = ensure_company(engine, f"d{uuid.uuid4().hex[:12]}", "D", "EUR")
    theirs = ensure_company(engine, f"e{uuid.uuid4().hex[:12]}", "E", "EUR")
    rows = [
        (ours, 7, "b"),
        (ours, -(2**63), "a"),
        (ours, 7, "c"),  # one entry, two records
        (ours, 0, "v"),  # volatile
        (ours, 2**63 - 1, None),  # an entry that gave no record
        (ours, 3, "d"),
        (theirs, 5, "x"),
    ]
    with engine.begin() as conn:
        conn.execute(
            insert(source_entries),
            [{"company_id": c, "digest": d, "key": k} for c, d, k in rows],
        )
        known = digests.load(conn, ours)
        again = digests.load(conn, ours)  # the cursor of the first read is gone
        assert list(known.digests) == [-(2**63), 3, 7, 2**63 - 1]
        assert list(again.digests) == list(known.digests)
        assert [known(d) for d in (7, 3, 5, 0)] == [True, True, False, False]
        assert sorted(known.gone()) == [-(2**63), 2**63 - 1]
        assert len(digests.load(conn, theirs)) == 1


def test_load_works_on_an_autocommit_connection(engine: Engine) -> None:
    """No transaction to hold a server-side cursor: the digests still load."""
    company = ensure_company(engine, f"a{uuid.uuid4().hex[:12]}", "A", "EUR")
    with engine.begin() as conn:
        conn.execute(insert(source_entries).values(company_id=company, digest=9))
    auto = engine.execution_options(isolation_level="AUTOCOMMIT")
    with auto.connect() as conn:
        assert list(digests.load(conn, company).digests) == [9]


def test_known_finds_exactly_the_store_digests_at_every_size() -> None:
    """The look-up searches one bucket of digests: at sizes from none to many
    buckets, with digests at both ends of the range and at bucket edges, it
    finds each held digest and no other, and marks exactly those seen."""
    rng = random.Random(10)  # noqa: S311 - test data, not secrets
    for size in (0, 1, 2, 15, 16, 17, 1000, 70_000):
        held = {rng.randint(-(2**63), 2**63 - 1) for _ in range(size)}
        if size > 2:
            held |= {-(2**63), 2**63 - 1, 0, -1, 1 << 48, (1 << 48) - 1}
        known = digests.Known(array("q", sorted(held)))
        asked = [rng.randint(-(2**63), 2**63 - 1) for _ in range(500)]
        asked += [-(2**63), 2**63 - 1, 0, -1, 1 << 48, (1 << 48) - 1, (1 << 48) + 1]
        assert [known(d) for d in asked] == [d in held for d in asked]
        hits = [d for d in held if d in set(asked)]
        assert sorted(known.gone()) == sorted(held - set(hits))
        assert all(known(d) for d in held)
        assert list(known.gone()) == []
