"""Helpers for the write-back tests: a Sage company that reminds, and what
the store and the Sage database hold afterwards."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

from sageconnect.store.engine import open_store
from sageconnect.store.tables import note_queue, reminders
from support import SageDb

NOW = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)  # the fixture's "today"
RENAME = {
    "sqlite": "ALTER TABLE {0} RENAME TO {1}",
    "postgresql": "ALTER TABLE {0} RENAME TO {1}",
    "mariadb": "RENAME TABLE {0} TO {1}",
}


def setup(tmp_path: Path, db: SageDb, writeback: str = "") -> Path:
    """A company read from ``db`` that reminds by e-mail and letter (folders)."""
    config = tmp_path / "config.toml"
    config.write_text(
        f"""
[store]
url = "sqlite:///{tmp_path / "store.db"}"
[companies.bijou]
name = "Bijou SA"
[companies.bijou.source]
mapping = "sage100"
{db.source_settings}
[companies.bijou.writeback]
writer = "odbc"
{writeback}
[dunning]
[dunning.scenarios.standard]
steps = [
  {{ id = "first_reminder", days = 5, channels = ["email"], template = "first_reminder" }},
  {{ id = "formal_notice", days = 45, channels = ["letter"], template = "formal_notice", tone = "formal", claim_interest = true, claim_indemnity = true, pay_within_days = 8 }},
]
[dunning.channels.email]
kind = "folder"
path = "{tmp_path / "mails"}"
[dunning.channels.letter]
kind = "folder"
path = "{tmp_path / "letters"}"
""",
        encoding="utf-8",
    )
    return config


def sent_keys(config: Path) -> list[str]:
    engine = open_store(f"sqlite:///{config.parent / 'store.db'}")
    with engine.connect() as conn:
        keys = conn.execute(
            select(reminders.c.key).where(reminders.c.state == "sent")
        ).scalars()
        found = list(keys)
    engine.dispose()
    return found


def queue(config: Path) -> list[Any]:
    engine = open_store(f"sqlite:///{config.parent / 'store.db'}")
    with engine.connect() as conn:
        rows = list(conn.execute(select(note_queue).order_by(note_queue.c.id)))
    engine.dispose()
    return rows


def sage_notes(db: SageDb) -> list[tuple[str, str]]:
    with db.admin() as conn:
        rows = conn.execute("SELECT CT_Num, ME_Commentaire FROM F_COMPTETMEDIA")
        return [(str(c).strip(), str(t)) for c, t in rows.fetchall()]


def assert_once_each(db: SageDb, keys: list[str]) -> None:
    """Exactly one note in Sage per reminder sent, and no other."""
    found = sage_notes(db)
    assert keys
    for key in keys:
        mine = [t for _, t in found if t.startswith(f"(sc:{key[:10]})")]
        assert len(mine) == 1, (key, mine)
    assert len(found) == len(keys)


def events(err: str) -> list[dict[str, Any]]:
    return [json.loads(x) for x in err.splitlines() if x.startswith("{")]
