"""A company planned part by part, as `dunning plan` and each cycle do it: the
same plan in the same order as in one piece, and other writers never refused.

Customers C4..C1 appear in the file in that order, so their ids run against
their codes (as when customers are created in Sage after others): parts are
cut in the order of the codes all the same.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text

from sageconnect.cli import main
from sageconnect.clock import FixedClock
from sageconnect.config import load
from sageconnect.dunning import send
from sageconnect.dunning.snapshot import Snapshot
from sageconnect.store import bulk
from sageconnect.store.engine import open_store
from sageconnect.store.tables import customers, reminders
from support import fec_lines

TODAY = dt.date(2026, 11, 24)  # the clock fixture's day
CODES = ["C4", "C3", "C2", "C1"]  # as the file first names them


def fec() -> str:
    """Each customer owes two invoices, 20 and 10 days late."""
    lines = []
    for n, (customer, late) in enumerate(
        [(c, late) for c in CODES for late in (20, 10)], start=1
    ):
        day = (TODAY - dt.timedelta(days=30 + late)).strftime("%Y%m%d")
        head, tail = f"VE|Ventes|{n}|{day}", f"FA{n}|{day}|Facture FA{n}"
        lines += [
            (
                f"{head}|41100000|Clients|{customer}|Client {customer}|{tail}"
                f"|{100 + n},00|0,00|||{day}||"
            ),
            f"{head}|70600000|Prestations|||{tail}|0,00|{100 + n},00|||{day}||",
        ]
    return fec_lines(*lines)


@pytest.fixture
def config(tmp_path: Path, clock: FixedClock) -> Path:
    (tmp_path / "fec").mkdir()
    (tmp_path / "fec" / "1FEC20261231.txt").write_text(fec(), encoding="utf-8")
    (tmp_path / "contacts.csv").write_text(
        "customer;email;phone;contact;language\n"
        + "".join(f"{c};compta@{c.lower()}.example;;;fr\n" for c in CODES),
        encoding="utf-8",
    )
    path = tmp_path / "config.toml"
    path.write_text(
        """
[store]
url = "sqlite:///store.db"

[companies.acme]
name = "ACME SAS"
contacts = "contacts.csv"

[companies.acme.source]
mapping = "fec"
path = "fec"

[dunning]
[dunning.sender]
email = "relances@acme.example"
[dunning.scenarios.standard]
steps = [
  { id = "first_reminder", days = 5, channels = ["email"], template = "first_reminder" },
]
[dunning.channels.email]
kind = "folder"
path = "outbox"
from_address = "relances@acme.example"
""",
        encoding="utf-8",
    )
    assert main(["sync", "-c", str(path)], clock) == 0
    return path


def store(config: Path) -> Engine:
    return open_store(load(config).store_url())


def test_ids_run_against_codes_in_this_store(config: Path) -> None:
    with store(config).connect() as conn:
        ids = dict(conn.execute(select(customers.c.code, customers.c.id)).all())
    assert sorted(ids, key=ids.__getitem__) == CODES


def planned(config: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]) -> Any:
    capsys.readouterr()
    args = ["plan", "-c", str(config), "--skipped", "--format", "json"]
    assert main(args, clock) == 0
    return json.loads(capsys.readouterr().out)


def test_the_plan_made_one_customer_at_a_time_is_the_plan_in_one_piece(
    config: Path,
    clock: FixedClock,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    whole = planned(config, clock, capsys)
    monkeypatch.setattr(send, "BATCH", 1)
    parts = planned(config, clock, capsys)
    assert [r["customer"] for r in whole["planned"]] == ["C1", "C2", "C3", "C4"]
    assert parts == whole  # the same rows, in the same order


def test_a_writer_committing_while_a_cycle_plans_is_neither_refused_nor_kept_waiting(
    config: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pause added from the CLI, a sync by another worker: while a send cycle
    reads part after part, other connections commit, and wait for no one."""
    other = store(config)
    with other.begin() as conn:
        conn.execute(text("CREATE TABLE elsewhere (x INTEGER)"))
    monkeypatch.setattr(send, "BATCH", 1)  # four parts
    monkeypatch.setattr(bulk, "FETCH", 1)  # cursors open between parts, as at scale
    real, calls = send.Planner._plan, []

    def commit_meanwhile(self: send.Planner, conn: Any, snap: Snapshot) -> Any:
        calls.append(snap)
        with other.connect() as elsewhere:
            elsewhere.exec_driver_sql("PRAGMA busy_timeout = 200")  # no waiting
            elsewhere.exec_driver_sql("INSERT INTO elsewhere VALUES (1)")
            elsewhere.commit()
        return real(self, conn, snap)

    monkeypatch.setattr(send.Planner, "_plan", commit_meanwhile)
    assert main(["send", "-c", str(config)], clock) == 0
    assert len(calls) == 4 + 4  # four parts, then each message's re-check
    with other.connect() as conn:
        sent = conn.execute(select(reminders.c.key, reminders.c.state)).all()
        written = conn.execute(text("SELECT COUNT(*) FROM elsewhere")).scalar()
    assert sorted(state for _, state in sent) == ["sent"] * 4
    assert written == len(calls)  # no write refused
