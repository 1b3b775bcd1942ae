"""Reminders written back into a Sage-100-shaped database through real ODBC
drivers (SQLite ODBC, psqlODBC, MariaDB): each note once, whatever happens."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from sageconnect.cli import main
from sageconnect.clock import FixedClock
from sageconnect.store.engine import open_store
from sageconnect.store.tables import notes, reminders
from support import SageDb, build_sage, drop_sage

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
        rows = list(conn.execute(select(notes).order_by(notes.c.id)))
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


@pytest.mark.parametrize("target", ["sqlite", "postgresql", "mariadb"])
def test_a_cycle_leaves_one_note_per_reminder_and_a_second_none(
    target: str, tmp_path: Path
) -> None:
    """run --once sends, then writes a note per reminder sent; more runs add none."""
    db = build_sage(target, tmp_path)
    try:
        config = setup(tmp_path, db)
        clock = FixedClock(NOW)
        assert main(["run", "--once", "-c", str(config)], clock) == 0
        keys = sent_keys(config)
        assert_once_each(db, keys)
        assert main(["writeback", "-c", str(config)], clock) == 0
        clock.advance(dt.timedelta(days=1))
        assert main(["run", "--once", "-c", str(config)], clock) == 0
        assert_once_each(db, sent_keys(config))
    finally:
        drop_sage(db)


def test_a_note_is_cut_to_the_column_and_kept_whole_in_the_store(
    tmp_path: Path,
) -> None:
    """ME_Commentaire holds 69 characters; the store keeps the full history line."""
    db = build_sage("postgresql", tmp_path)  # VARCHAR(69) is enforced there
    try:
        config = setup(tmp_path, db)
        assert main(["run", "--once", "-c", str(config)], FixedClock(NOW)) == 0
        written = {t[:15]: t for _, t in sage_notes(db)}
        rows = queue(config)
        assert rows
        assert all(len(t) <= 69 for t in written.values())
        cut = [r for r in rows if len(r.text) > 69]
        assert cut, "the fixture's reminders make long notes"
        for row in cut:
            sage_text = written[row.marker]
            assert sage_text == row.written_text
            assert sage_text.endswith("…")
            assert row.text.startswith(sage_text.removesuffix("…"))
            assert "envoyée" in sage_text
            assert "€" in row.text
    finally:
        drop_sage(db)


def child(config: Path, *argv: str, failpoint: str = "") -> int:
    env = {**os.environ, "SAGECONNECT_FAILPOINTS": failpoint}
    code = "import sys; from sageconnect.cli import main; sys.exit(main(sys.argv[1:]))"
    done = subprocess.run(
        [sys.executable, "-c", code, *argv, "-c", str(config)],
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    return done.returncode


@pytest.mark.parametrize("target", ["sqlite", "postgresql"])
def test_a_crash_between_the_insert_and_its_record_leaves_one_note(
    target: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Killed after writing a note, before recording it: the next run finds the
    note by its marker, records it, and writes each of the others once."""
    db = build_sage(target, tmp_path)
    try:
        config = setup(tmp_path, db)
        now = dt.datetime.now(dt.UTC)  # the child reads the real clock
        assert main(["sync", "-c", str(config)], FixedClock(now)) == 0
        assert main(["send", "-c", str(config)], FixedClock(now)) == 0
        failpoint = "writeback.after_write_before_record"
        assert child(config, "writeback", failpoint=failpoint) == 137
        assert len(sage_notes(db)) == 1
        (claimed,) = [r for r in queue(config) if r.state == "writing"]
        capsys.readouterr()
        later = FixedClock(now + dt.timedelta(minutes=11))  # past the lease
        assert main(["writeback", "-c", str(config)], later) == 0
        logged = events(capsys.readouterr().err)
        found = [e for e in logged if e["event"] == "note_found"]
        assert [e["marker"] for e in found] == [claimed.marker]
        assert_once_each(db, sent_keys(config))
        rows = queue(config)
        assert {r.state for r in rows} == {"written"}
        assert [r.marker for r in rows if r.found] == [claimed.marker]
    finally:
        drop_sage(db)


@pytest.mark.parametrize("target", ["sqlite", "postgresql", "mariadb"])
def test_notes_wait_while_the_target_is_gone_then_arrive_once(
    target: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With F_COMPTETMEDIA gone, reminders still go out and the notes wait
    (writeback_pending says how many); once it is back, each arrives once."""
    db = build_sage(target, tmp_path)
    try:
        config = setup(tmp_path, db)
        with db.admin() as conn:
            conn.execute(RENAME[target].format("F_COMPTETMEDIA", "F_COMPTETMEDIA_OFF"))
        clock = FixedClock(NOW)
        capsys.readouterr()
        assert main(["run", "--once", "-c", str(config)], clock) == 75
        logged = events(capsys.readouterr().err)
        keys = sent_keys(config)
        assert keys, "reminders were sent although the notes could not be"
        (pending,) = [e for e in logged if e["event"] == "writeback_pending"]
        assert pending["pending"] == len(keys)
        assert any(e["event"] == "writeback_stopped" for e in logged)
        with db.admin() as conn:
            conn.execute(RENAME[target].format("F_COMPTETMEDIA_OFF", "F_COMPTETMEDIA"))
        clock.advance(dt.timedelta(minutes=6))  # past the first retry delay
        assert main(["writeback", "-c", str(config)], clock) == 0
        assert_once_each(db, keys)
        assert main(["writeback", "-c", str(config)], clock) == 0
        assert_once_each(db, keys)
    finally:
        drop_sage(db)


def test_the_step_and_date_go_on_each_invoice_entry(tmp_path: Path) -> None:
    """entries = true sets EC_Rappel and EC_DateRelance on the invoices reminded,
    never lowering a level Sage already has."""
    db = build_sage("sqlite", tmp_path)
    config = setup(tmp_path, db, writeback="entries = true")
    with db.admin() as conn:
        before = dict(
            conn.execute("SELECT EC_No, EC_Rappel FROM F_ECRITUREC").fetchall()
        )
    assert main(["run", "--once", "-c", str(config)], FixedClock(NOW)) == 0
    engine = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    with engine.connect() as conn:
        carried = conn.execute(
            select(notes.c.text).where(notes.c.kind == "entries")
        ).scalars()
        texts = list(carried)
    engine.dispose()
    assert len(texts) == len(sent_keys(config))
    with db.admin() as conn:
        after = {
            n: (r, d)
            for n, r, d in conn.execute(
                "SELECT EC_No, EC_Rappel, EC_DateRelance FROM F_ECRITUREC"
            ).fetchall()
        }
    changed = {n for n, (r, _) in after.items() if r != before[n]}
    dated = {n for n, (_, d) in after.items() if str(d).startswith("2026-11-24")}
    assert changed
    assert changed <= dated
    assert all(after[n][0] in (1, 2) for n in dated)
    assert all((before[n] or 0) <= after[n][0] for n in dated)
