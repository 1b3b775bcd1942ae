"""Disputes, promises and holds through the command line and the CSV pauses folder.

What the credit team sees: ``plan --skipped`` says why a paused invoice gets no
reminder, the pause lists keep who and when, a resolved or broken pause lets
dunning resume, and a bad row (command line or CSV) is refused with its field.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from sageconnect.cli import main
from sageconnect.clock import PARIS, FixedClock, today
from sageconnect.config import load
from sageconnect.dunning.send import plan_company
from sageconnect.store.engine import open_store
from sageconnect.store.queries import company_ids
from sageconnect.store.tables import (
    allocations,
    customers,
    invoices,
    reminder_items,
    reminders,
)
from support import fec_lines

TODAY = dt.date(2026, 11, 24)  # the clock fixture's day
CONTACTS = (
    "customer;email;phone;contact;language\n"
    "C1;compta@etoile.example;;Mme Durand;fr\n"
    "C2;ap@muller.example;;;fr\n"
)


def fec() -> str:
    """C1 owes FA1 (20 days late) and FA2 (10 days); C2 owes FA3 (8 days)."""
    lines = []
    for n, (customer, name, late, amount) in enumerate(
        [
            ("C1", "Café de l'Étoile", 20, "1200,00"),
            ("C1", "Café de l'Étoile", 10, "300,00"),
            ("C2", "Garage Müller", 8, "450,50"),
        ],
        start=1,
    ):
        day = (TODAY - dt.timedelta(days=30 + late)).strftime("%Y%m%d")
        head = f"VE|Ventes|{n}|{day}"
        tail = f"FA{n}|{day}|Facture FA{n}"
        lines += [
            f"{head}|41100000|Clients|{customer}|{name}|{tail}|{amount}|0,00|||{day}||",
            f"{head}|70600000|Prestations|||{tail}|0,00|{amount}|||{day}||",
        ]
    return fec_lines(*lines)


def setup(tmp_path: Path, contacts: str = CONTACTS) -> Path:
    """A FEC, a contacts file, one e-mail step written to a folder, a pauses folder."""
    (tmp_path / "fec").mkdir()
    (tmp_path / "fec" / "1FEC20261231.txt").write_text(fec(), encoding="utf-8")
    (tmp_path / "contacts.csv").write_text(contacts, encoding="utf-8")
    (tmp_path / "pauses").mkdir()
    config = tmp_path / "config.toml"
    config.write_text(
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
pauses_folder = "pauses"
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
    return config


class Cli:
    """Runs ``sageconnect`` in process; keeps the exit code, stdout and log events."""

    def __init__(
        self, config: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]
    ) -> None:
        self.config, self.clock, self.capsys = config, clock, capsys
        self.out = ""
        self.err = ""

    def __call__(self, *argv: str) -> int:
        self.capsys.readouterr()
        code = main([argv[0], "-c", str(self.config), *argv[1:]], self.clock)
        captured = self.capsys.readouterr()
        self.out, self.err = captured.out, captured.err
        return code

    def dispute(self, customer: str, invoice: str, reason: str) -> int:
        """``dispute add`` of one invoice, by alice."""
        return self(
            "dispute",
            "add",
            "--customer",
            customer,
            "--invoice",
            invoice,
            "--reason",
            reason,
            "--by",
            "alice",
        )

    def json(self, *argv: str) -> Any:
        assert self(*argv, "--format", "json") == 0, self.err
        return json.loads(self.out)

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        found = [json.loads(x) for x in self.err.splitlines() if x.startswith("{")]
        return [e for e in found if name is None or e["event"] == name]

    def plan(self, day: dt.date | None = None) -> Planning:
        """``plan --skipped``, with the invoices each planned reminder lists.

        Read as CSV: ``--format json`` fails once anything is planned (see
        test_plan_as_json_gives_planned_and_skipped).
        """
        extra = ("--date", day.isoformat()) if day else ()
        assert self("plan", "--skipped", "--format", "csv", *extra) == 0, self.err
        rows = self.out.split("\n")
        gap = rows.index("")  # planned, an empty line, skipped
        planned = list(csv.DictReader(rows[:gap]))
        skipped = [dict(r) for r in csv.DictReader(x for x in rows[gap + 1 :] if x)]
        counts = {p["customer"]: int(p["items"]) for p in planned}
        lines = _planned_lines(self.config, day or today(self.clock, PARIS))
        assert {c: len(n) for c, n in lines.items()} == counts
        return Planning(lines, skipped)


@dataclass
class Planning:
    lines: dict[str, set[str]]  # customer -> invoice numbers its reminder lists
    skipped: list[dict[str, str]]

    def reason(self, customer: str, invoice: str = "") -> str:
        (why,) = [
            s["reason"]
            for s in self.skipped
            if (s["customer"], s["invoice"]) == (customer, invoice)
        ]
        return why

    def planned(self) -> set[str]:
        return {n for numbers in self.lines.values() for n in numbers}


def _planned_lines(config: Path, day: dt.date) -> dict[str, set[str]]:
    """The invoices each planned reminder lists, planned in process from the store.

    ``plan`` prints only a count of items per reminder; the caller checks that
    these numbers agree with it.
    """
    cfg = load(config)
    engine = open_store(cfg.store_url())
    try:
        with engine.connect() as conn:
            result = plan_company(conn, cfg, "acme", company_ids(conn)["acme"], day)
    finally:
        engine.dispose()
    return {
        p.notice.customer: {x.number for x in p.notice.lines} for p in result.reminders
    }


def sent_lines(config: Path) -> dict[str, set[str]]:
    """Invoice numbers each customer's sent reminders carried, from the ledger."""
    engine = open_store(load(config).store_url())
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(customers.c.code, invoices.c.number)
                .select_from(reminders)
                .join(customers, customers.c.id == reminders.c.customer_id)
                .join(reminder_items, reminder_items.c.reminder_id == reminders.c.id)
                .join(invoices, invoices.c.id == reminder_items.c.invoice_id)
                .where(reminders.c.state == "sent")
            ).all()
    finally:
        engine.dispose()
    found: dict[str, set[str]] = {}
    for code, number in rows:
        found.setdefault(code, set()).add(number)
    return found


@pytest.fixture
def cli(tmp_path: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]) -> Cli:
    run = Cli(setup(tmp_path), clock, capsys)
    assert run("sync") == 0, run.err
    return run


def test_a_dispute_stops_reminders_for_its_invoice_until_resolved(cli: Cli) -> None:
    """Disputed: skipped with its reason, listed with who and when; resolved: back."""
    before = cli.plan()
    assert before.lines == {"C1": {"FA1", "FA2"}, "C2": {"FA3"}}
    assert before.skipped == []
    assert cli.dispute("C1", "FA1", "livraison incomplète") == 0
    assert cli.out == "dispute 1 added\n"
    (added,) = cli.events("pause_added")
    assert {k: added[k] for k in ("company", "kind", "id", "customer", "invoice")} == {
        "company": "acme",
        "kind": "dispute",
        "id": 1,
        "customer": "C1",
        "invoice": "FA1",
    }
    disputed = cli.plan()
    assert disputed.reason("C1", "FA1") == "disputed: livraison incomplète"
    assert "FA1" not in disputed.planned()
    assert disputed.lines == {"C1": {"FA2"}, "C2": {"FA3"}}
    (row,) = cli.json("dispute", "list")
    assert row["created_at"].startswith("2026-11-24T08:00")
    assert {k: v for k, v in row.items() if k != "created_at"} == {
        "company": "acme",
        "id": 1,
        "kind": "dispute",
        "customer": "C1",
        "invoice": "FA1",
        "reason": "livraison incomplète",
        "until": None,
        "amount": None,
        "created_by": "alice",
        "origin": "cli",
        "resolution": "",
    }
    assert cli("dispute", "list") == 0
    assert "alice" in cli.out
    assert "livraison incomplète" in cli.out
    assert cli.json("promise", "list") == []  # each kind has its own list
    assert cli("dispute", "resolve", "1", "--by", "bob") == 0
    assert cli.out == "dispute 1 resolved\n"
    (resolved,) = cli.events("pause_resolved")
    assert (resolved["id"], resolved["by"]) == (1, "bob")
    after = cli.plan()
    assert after.lines == before.lines
    assert after.skipped == []
    assert cli.json("dispute", "list") == []
    (row,) = cli.json("dispute", "list", "--all")
    assert (row["id"], row["resolution"]) == (1, "resolved")
    assert cli("dispute", "resolve", "1") == 64  # only an open one can be resolved
    assert "dispute 1: no such open dispute" in cli.err


def test_a_promise_pauses_until_its_day_then_is_noted_broken(
    cli: Cli, clock: FixedClock
) -> None:
    """Paused up to the promised day included; the day after, broken and reminded."""
    assert (
        cli(
            "promise",
            "add",
            "--customer",
            "C1",
            "--invoice",
            "FA1",
            "--until",
            "2026-11-30",
            "--amount",
            "1200.00",
            "--reason",
            "virement annoncé",
            "--by",
            "alice",
        )
        == 0
    )
    (row,) = cli.json("promise", "list")
    assert (row["until"], row["amount"], row["created_by"]) == (
        "2026-11-30",
        "1200.00",
        "alice",
    )
    why = "payment promised until 2026-11-30: virement annoncé"
    assert cli.plan().reason("C1", "FA1") == why
    assert cli.plan(dt.date(2026, 11, 30)).reason("C1", "FA1") == why
    assert cli.plan(dt.date(2026, 12, 1)).lines["C1"] == {"FA1", "FA2"}
    assert cli("send") == 0, cli.err
    assert sent_lines(cli.config) == {"C1": {"FA2"}, "C2": {"FA3"}}
    clock.advance(dt.timedelta(days=6))  # the promised day: still kept
    assert today(clock, PARIS) == dt.date(2026, 11, 30)
    assert cli("sync") == 0  # fresh data, or send refuses
    assert cli("send") == 0, cli.err
    assert cli.events("promise_broken") == []
    assert sent_lines(cli.config) == {"C1": {"FA2"}, "C2": {"FA3"}}
    clock.advance(dt.timedelta(days=1))  # the day after: broken
    assert cli("sync") == 0
    assert cli("send") == 0, cli.err
    (event,) = cli.events("promise_broken")
    assert {k: event[k] for k in ("company", "customer", "invoice", "until")} == {
        "company": "acme",
        "customer": "C1",
        "invoice": "FA1",
        "until": "2026-11-30",
    }
    (finished,) = cli.events("send_finished")
    assert (finished["planned"], finished["sent"]) == (1, 1)
    assert sent_lines(cli.config) == {"C1": {"FA1", "FA2"}, "C2": {"FA3"}}
    assert cli.json("promise", "list") == []
    (row,) = cli.json("promise", "list", "--all")
    assert row["resolution"] == "broken"
    assert cli("send") == 0
    assert cli.events("promise_broken") == []  # noted once


def test_a_hold_pauses_every_invoice_of_the_customer(cli: Cli) -> None:
    assert (
        cli(
            "hold",
            "add",
            "--customer",
            "C2",
            "--reason",
            "redressement judiciaire",
            "--by",
            "alice",
        )
        == 0
    )
    held = cli.plan()
    assert held.lines == {"C1": {"FA1", "FA2"}}
    assert held.skipped == [
        {
            "company": "acme",
            "customer": "C2",
            "invoice": "",
            "reason": "on hold: redressement judiciaire",
        }
    ]
    (row,) = cli.json("hold", "list")
    assert (row["customer"], row["invoice"], row["kind"]) == ("C2", "", "hold")
    assert cli("send") == 0, cli.err
    assert sent_lines(cli.config) == {"C1": {"FA1", "FA2"}}


@pytest.mark.parametrize(
    ("argv", "field"),
    [
        (["dispute", "--customer", "C9", "--invoice", "FA1"], "customer"),
        (["dispute", "--customer", "C1", "--invoice", "FA9"], "invoice"),
        (["dispute", "--customer", "C1", "--invoice", "FA3"], "invoice"),  # C2's
        (["dispute", "--customer", "C1"], "invoice"),
        (["promise", "--customer", "C1", "--invoice", "FA1"], "until"),
        (["hold", "--customer", "C9"], "customer"),
        (["hold", "--customer", "C1", "--reason", " "], "reason"),
    ],
    ids=[
        "unknown-customer",
        "unknown-invoice",
        "another-customers-invoice",
        "dispute-without-invoice",
        "promise-without-until",
        "hold-unknown-customer",
        "blank-reason",
    ],
)
def test_a_pause_that_cannot_be_recorded_exits_64_naming_the_field(
    cli: Cli, argv: list[str], field: str
) -> None:
    kind, *rest = argv
    reason = [] if "--reason" in rest else ["--reason", "appel du client"]
    assert cli(kind, "add", *rest, *reason, "--by", "alice") == 64
    assert f"{kind} add: {field} = " in cli.err
    assert cli.events("pause_added") == []
    for each in ("dispute", "promise", "hold"):
        assert cli.json(each, "list", "--all") == []
    assert cli.plan().skipped == []


PAUSES_CSV = (
    "action;customer;invoice;reason;until;amount;by\n"
    "dispute;C1;FA1;livraison incomplète;;;marie\n"
    "promise;C2;FA3;virement la semaine prochaine;15/12/2026;450,50;paul\n"
    "promise;C1;FA2;chèque annoncé;31/12;;\n"
    "dispute;C9;FA9;client inconnu;;;\n"
    "refund;C1;FA2;avoir demandé;;;\n"
)


def test_a_pauses_csv_is_read_once_and_its_bad_rows_are_set_aside(
    cli: Cli, tmp_path: Path
) -> None:
    folder = tmp_path / "pauses"
    (folder / "acme-litiges.csv").write_bytes(PAUSES_CSV.encode("cp1252"))
    (folder / "beta-litiges.csv").write_text(PAUSES_CSV, encoding="utf-8")
    assert cli("send") == 0, cli.err
    bad = [
        (e["file"], e["line"], e["field"], e["value"])
        for e in cli.events("row_rejected")
    ]
    assert bad == [
        ("pauses/acme-litiges.csv", 4, "until", "31/12"),
        ("pauses/acme-litiges.csv", 5, "customer", "C9"),
        ("pauses/acme-litiges.csv", 6, "action", "refund"),
    ]
    (imported,) = cli.events("pauses_imported")
    assert (imported["added"], imported["rejected"]) == (2, 3)
    assert sorted(p.name for p in folder.iterdir()) == ["beta-litiges.csv", "done"]
    assert [p.name for p in (folder / "done").iterdir()] == ["acme-litiges.csv"]
    (dispute,) = cli.json("dispute", "list")
    assert {k: dispute[k] for k in ("customer", "invoice", "reason")} == {
        "customer": "C1",
        "invoice": "FA1",
        "reason": "livraison incomplète",  # read as cp1252
    }
    assert (dispute["origin"], dispute["created_by"]) == ("csv", "marie")
    (promise,) = cli.json("promise", "list")
    assert {k: promise[k] for k in ("customer", "invoice", "until", "amount")} == {
        "customer": "C2",
        "invoice": "FA3",
        "until": "2026-12-15",
        "amount": "450.50",
    }
    assert sent_lines(cli.config) == {"C1": {"FA2"}}  # pauses read before planning
    rejects = cli.json("report", "rejects")
    assert [(r["file"], r["line"], r["field"], r["value"]) for r in rejects] == bad
    assert {r["reason"] for r in rejects} == {
        "a date (YYYY-MM-DD or DD/MM/YYYY)",
        "a customer of this company",
        "one of dispute, promise, hold",
    }

    assert cli("send") == 0  # the file was moved: nothing to read
    assert cli.events("pauses_imported") == []
    assert cli.events("row_rejected") == []

    (folder / "done" / "acme-litiges.csv").replace(folder / "acme-litiges.csv")
    assert cli("send") == 0  # the same file dropped again: its lines were read
    (imported,) = cli.events("pauses_imported")
    assert (imported["added"], imported["rejected"]) == (0, 3)
    assert len(cli.json("dispute", "list", "--all")) == 1
    assert len(cli.json("promise", "list", "--all")) == 1
    assert len(cli.json("report", "rejects")) == 3  # each bad row kept once
    planning = cli.plan()
    assert planning.reason("C1", "FA1") == "disputed: livraison incomplète"
    assert planning.reason("C2", "FA3") == (
        "payment promised until 2026-12-15: virement la semaine prochaine"
    )


def test_plan_as_json_gives_planned_and_skipped(cli: Cli) -> None:
    assert (
        cli(
            "dispute",
            "add",
            "--customer",
            "C1",
            "--invoice",
            "FA1",
            "--reason",
            "livraison incomplète",
        )
        == 0
    )
    result: Any = cli.json("plan", "--skipped")
    assert [(p["customer"], p["items"], p["open"]) for p in result["planned"]] == [
        ("C1", 1, "300.00"),
        ("C2", 1, "450.50"),
    ]
    assert result["skipped"] == [
        {
            "company": "acme",
            "customer": "C1",
            "invoice": "FA1",
            "reason": "disputed: livraison incomplète",
        }
    ]


@pytest.mark.parametrize(
    "address",
    [
        "ap.muller.example",
        "ap@muller",
        "ap@",
        "ap@@muller.example",
        "ap@muller..example",
    ],
)
def test_a_malformed_contact_email_rejects_that_row_only(
    tmp_path: Path,
    clock: FixedClock,
    capsys: pytest.CaptureFixture[str],
    address: str,
) -> None:
    contacts = (
        "customer;email;phone;contact;language\n"
        "C1;compta@etoile.example;;Mme Durand;fr\n"
        f"C2;{address};;;fr\n"
    )
    cli = Cli(setup(tmp_path, contacts), clock, capsys)
    assert cli("sync") == 0
    planning = cli.plan()
    assert planning.lines == {"C1": {"FA1", "FA2"}}
    assert planning.reason("C2", "FA3") == "email: no e-mail address"
    assert cli("send") == 0, cli.err
    (event,) = cli.events("row_rejected")
    assert {k: event[k] for k in ("file", "line", "field", "reason")} == {
        "file": "contacts.csv",
        "line": 3,
        "field": "email",
        "reason": "not an e-mail address",
    }
    assert sent_lines(cli.config) == {"C1": {"FA1", "FA2"}}
    (mail,) = (tmp_path / "outbox").iterdir()
    assert b"compta@etoile.example" in mail.read_bytes()


def _matched(config: Path) -> list[tuple[str, str, str]]:
    """(customer, invoice, origin) of each allocation our matching made."""
    engine = open_store(load(config).store_url())
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(customers.c.code, invoices.c.number, allocations.c.origin)
                .join(customers, customers.c.id == allocations.c.customer_id)
                .join(invoices, invoices.c.id == allocations.c.invoice_id)
                .where(allocations.c.origin.like("match:%"))
                .order_by(customers.c.code, invoices.c.number)
            ).all()
    finally:
        engine.dispose()
    return [tuple(r) for r in rows]


@pytest.mark.parametrize("matching", [True, False], ids=["matching", "matching off"])
def test_disputes_match_again_with_the_companys_matching_methods(
    tmp_path: Path,
    clock: FixedClock,
    capsys: pytest.CaptureFixture[str],
    matching: bool,
) -> None:
    """C1 paid 300,00 and C2 450,50, unlettered. A dispute added on the command
    line or read from the pauses folder matches its customer again as the sync
    does: by the company's methods, so not at all where matching is turned off
    (``methods = []``), and away from the disputed invoice where it is on."""
    config = setup(tmp_path)
    day = (TODAY - dt.timedelta(days=5)).strftime("%Y%m%d")
    paid = [
        (11, "C1", "Café de l'Étoile", "300,00"),
        (12, "C2", "Garage Müller", "450,50"),
    ]
    extra = []
    for n, customer, name, amount in paid:
        head, tail = f"BQ|Banque|{n}|{day}", f"V{n}|{day}|Virement reçu"
        extra += [
            f"{head}|41100000|Clients|{customer}|{name}|{tail}|0,00|{amount}|||{day}||",
            f"{head}|51200000|Banque|||{tail}|{amount}|0,00|||{day}||",
        ]
    fec_file = tmp_path / "fec" / "1FEC20261231.txt"
    fec_file.write_text(fec() + "\n".join(extra) + "\n", encoding="utf-8")
    if not matching:
        text = config.read_text(encoding="utf-8")
        config.write_text(
            text.replace(
                "[companies.acme.source]",
                "[companies.acme.matching]\nmethods = []\n\n[companies.acme.source]",
            ),
            encoding="utf-8",
        )
    cli = Cli(config, clock, capsys)
    assert cli("sync") == 0, cli.err
    synced = _matched(config)
    assert synced == (
        [("C1", "FA2", "match:amount"), ("C2", "FA3", "match:amount")]
        if matching
        else []
    )
    assert cli.dispute("C1", "FA2", "prix contesté") == 0, cli.err
    (tmp_path / "pauses" / "acme-litiges.csv").write_text(
        "action;customer;invoice;reason\ndispute;C2;FA3;non reçu\n", encoding="utf-8"
    )
    assert cli("send") == 0, cli.err
    (imported,) = cli.events("pauses_imported")
    assert imported["added"] == 1
    after = _matched(config)
    if not matching:
        assert after == []
    else:  # the payments went elsewhere: to what is not disputed, or nowhere
        assert ("C1", "FA2", "match:amount") not in after
        assert ("C2", "FA3", "match:amount") not in after
        assert [c for c, _, _ in after] == ["C1"]  # C1's 300,00 on FA1
