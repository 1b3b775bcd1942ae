"""Reminders written back into a Sage-100-shaped database through real ODBC
drivers (SQLite ODBC, psqlODBC, MariaDB): each note once, whatever happens."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from notes_support import (
    NOW,
    RENAME,
    assert_once_each,
    events,
    queue,
    sage_notes,
    sent_keys,
    setup,
)
from processes import child
from sageconnect.cli import main
from sageconnect.clock import FixedClock
from sageconnect.mapping.registry import PROJECT_MAPPINGS
from sageconnect.store.engine import open_store
from sageconnect.store.tables import note_queue
from support import build_sage, drop_sage


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
            select(note_queue.c.text).where(note_queue.c.kind == "entries")
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


def test_an_information_libre_column_takes_the_latest_note(tmp_path: Path) -> None:
    """A mapping whose [notes] UPDATEs a custom F_COMPTET column: each customer
    reminded shows its latest note there, written once."""
    db = build_sage("sqlite", tmp_path)
    with db.admin() as conn:
        conn.execute("ALTER TABLE F_COMPTET ADD COLUMN [Dernière relance] VARCHAR(69)")
    mappings = tmp_path / "mappings"
    mappings.mkdir()
    text = (PROJECT_MAPPINGS / "sage100.toml").read_text(encoding="utf-8")
    head, _, tail = text.partition("[notes]\n")
    _, _, entries = tail.partition("[notes.entries]")
    (mappings / "sage-libre.toml").write_text(
        head.replace('name = "sage100"', 'name = "sage-libre"')
        + """[notes]
length = 69
find = "SELECT COUNT(*) FROM F_COMPTET WHERE CT_Num = ? AND [Dernière relance] LIKE ?"
find_params = ["customer", "marker_like"]
write = "UPDATE F_COMPTET SET [Dernière relance] = ? WHERE CT_Num = ?"
write_params = ["text", "customer"]
[notes.entries]"""
        + entries,
        encoding="utf-8",
    )
    config = setup(tmp_path, db)
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            'mapping = "sage100"', 'mapping = "sage-libre"'
        ),
        encoding="utf-8",
    )
    clock = FixedClock(NOW)
    assert main(["run", "--once", "-c", str(config)], clock) == 0
    assert main(["writeback", "-c", str(config)], clock) == 0
    keys = {k[:10]: k for k in sent_keys(config)}
    with db.admin() as conn:
        shown = conn.execute(
            "SELECT CT_Num, [Dernière relance] FROM F_COMPTET"
            " WHERE [Dernière relance] IS NOT NULL"
        ).fetchall()
    assert len(shown) == len({r.customer for r in queue(config)})
    assert all(t[4:14] in keys and len(t) <= 69 for _, t in shown)
    assert sage_notes(db) == []
