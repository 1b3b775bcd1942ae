"""Alerts through the store, to real servers: each state change notified once.

The ledger alone on SQLite and PostgreSQL; then the whole cycle from a CSV
source (it carries the insured limit) with a clock moved across the
declaration deadline, a real SMTP server (aiosmtpd), a real HTTP endpoint and a
folder; and a crash between sending and recording (RELIABILITY.md 1.2).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select

from sageconnect import cli_credit, logs
from sageconnect.cli import main
from sageconnect.clock import Clock, FixedClock
from sageconnect.config import load
from sageconnect.credit import ledger
from sageconnect.credit.alerts import Alert
from sageconnect.credit.notify import AlertMessage, headline
from sageconnect.dunning.message import Delivery
from sageconnect.store.engine import open_store
from sageconnect.store.tables import alert_notices, companies
from servers import Mailbox, Provider, StartSmtp

NOW = dt.datetime(2026, 10, 24, 8, 0, tzinfo=dt.UTC)
TARGETS = ["box", "hook", "mail"]


# --- the ledger alone --------------------------------------------------------------


def exposure(level: str, rank: int, owed: str = "8500.00") -> Alert:
    return Alert(
        "exposure:C0042:",
        "exposure",
        "C0042",
        "",
        level,
        rank,
        f"C0042: {owed} owed",
        {"exposure": owed, "limit": "10000.00"},
    )


def declaration(level: str, rank: int) -> Alert:
    return Alert(
        "declaration:C0042:FA1",
        "declaration",
        "C0042",
        "FA1",
        level,
        rank,
        "declare FA1",
        {"deadline": "2026-10-31"},
    )


def new_company(engine: Engine) -> int:
    with engine.begin() as conn:
        company_id: int = conn.execute(
            insert(companies).values(code="acme", name="ACME SAS", currency="EUR")
        ).inserted_primary_key[0]  # type: ignore[index]
    return company_id


def step(
    engine: Engine, company: int, alerts: list[Alert], at: dt.datetime
) -> list[str]:
    """apply; the events as 'event kind level'."""
    with engine.begin() as conn:
        changes = ledger.apply(conn, company, alerts, at, TARGETS)
    assert changes.notices == len(changes.events) * len(TARGETS)
    return [f"{e.event} {e.kind} {e.level}" for e in changes.events]


def test_states_change_once_and_plan_one_notice_per_target(engine: Engine) -> None:
    company = new_company(engine)
    day = dt.timedelta(days=1)
    assert step(
        engine, company, [exposure("warning", 1), declaration("d7", 1)], NOW
    ) == [
        "raised exposure warning",
        "raised declaration d7",
    ]
    # the same alerts again: nothing; new facts only: refreshed silently
    assert (
        step(engine, company, [exposure("warning", 1), declaration("d7", 1)], NOW) == []
    )
    assert (
        step(
            engine,
            company,
            [exposure("warning", 1, "9000.00"), declaration("d7", 1)],
            NOW + day,
        )
        == []
    )
    assert step(
        engine,
        company,
        [exposure("over", 2, "10500.00"), declaration("d3", 2)],
        NOW + 2 * day,
    ) == [
        "escalated exposure over",
        "escalated declaration d3",
    ]
    # lower: the level follows, without a notice; back up to a level already
    # announced: no second notice for the same state
    assert (
        step(
            engine,
            company,
            [exposure("warning", 1), declaration("d3", 2)],
            NOW + 3 * day,
        )
        == []
    )
    with engine.begin() as conn:
        assert [(a.kind, a.level) for a in ledger.active(conn, company)] == [
            ("declaration", "d3"),
            ("exposure", "warning"),
        ]
    with engine.begin() as conn:
        again = ledger.apply(
            conn,
            company,
            [exposure("over", 2), declaration("d3", 2)],
            NOW + 4 * day,
            TARGETS,
        )
    assert [e.event for e in again.events] == ["escalated"]
    assert again.notices == 0
    assert step(engine, company, [declaration("d3", 2)], NOW + 5 * day) == [
        "cleared exposure over"
    ]
    # raised again after clearing: a new occurrence, notified again
    assert step(
        engine, company, [exposure("warning", 1), declaration("d3", 2)], NOW + 6 * day
    ) == ["raised exposure warning"]
    with engine.begin() as conn:
        history = ledger.history(conn, company)
        notices = ledger.notices(conn, company)
    assert [(a.kind, a.occurrence, a.cleared_at is None) for a in history] == [
        ("declaration", 1, True),
        ("exposure", 1, False),
        ("exposure", 2, True),
    ]
    assert history[1].cleared_at == NOW + 5 * day
    assert len(notices) == 6 * len(TARGETS)
    assert len({n.key for n in notices}) == len(notices)
    assert {n.state for n in notices} == {"planned"}


def test_claim_finish_and_lapsed_leases(engine: Engine) -> None:
    company = new_company(engine)
    step(engine, company, [exposure("warning", 1)], NOW)
    lease = dt.timedelta(minutes=15)
    with engine.begin() as conn:
        box, hook, mail = ledger.waiting(conn, company)
        first = ledger.claim(conn, box.id, NOW, lease)
        assert first is not None
        assert ledger.claim(conn, box.id, NOW, lease) is None  # taken
        assert (
            ledger.finish(conn, box.id, first, Delivery("sent", "ref-1"), NOW) == "sent"
        )
        retry = ledger.claim(conn, hook.id, NOW, lease)
        assert retry is not None
        assert (
            ledger.finish(
                conn, hook.id, retry, Delivery("retry", detail="HTTP 503"), NOW
            )
            == "planned"
        )
        assert (
            ledger.claim(conn, mail.id, NOW, lease) is not None
        )  # then the process dies
    with engine.begin() as conn:
        assert ledger.expire_leases(conn, company, NOW + dt.timedelta(minutes=10)) == []
        (lapsed,) = ledger.expire_leases(conn, company, NOW + dt.timedelta(minutes=20))
        assert lapsed.target == "mail"
        states = {
            n.target: (n.state, n.attempts) for n in ledger.notices(conn, company)
        }
        assert [n.target for n in ledger.waiting(conn, company)] == ["hook"]
    assert states == {
        "box": ("sent", 1),
        "hook": ("planned", 1),
        "mail": ("uncertain", 1),
    }


def test_wording_is_french_and_carries_the_facts() -> None:
    message = AlertMessage(
        key="k" * 32,
        company="acme",
        company_name="ACME SAS",
        event="raised",
        kind="exposure",
        level="over",
        customer="C0042",
        customer_name="Café de l'Étoile",
        facts={"exposure": "12000.00", "limit": "10000.00", "uncovered": "2000.00"},
    )
    assert (
        message.title()
        == "[sageconnect] Alerte encours : C0042 au-dessus de la limite assurée"
    )
    text = message.text()
    assert "Encours : 12\u00a0000,00\u00a0EUR" in text
    assert "Non couvert : 2\u00a0000,00\u00a0EUR" in text
    assert "Café de l'Étoile" in text
    assert headline("declaration", "d3", "C1", "FA1", {"deadline": "2026-10-31"}) == (
        "C1 : facture FA1 à déclarer avant le 31/10/2026 (J-3)"
    )
    assert headline("prescription", "soon", "C1", "FA0", {"limit": "2026-06-01"}) == (
        "C1 : facture FA0 prescrite le 01/06/2026"
    )
    assert headline("new_kind", "bad", "C1", "", {}) == "C1 : new_kind (bad)"


# --- the whole cycle -----------------------------------------------------------------

CUSTOMERS = (
    "code;name;email;phone;siren;language;credit_limit;insured_limit;no_dunning\n"
    "C0042;Café de l'Étoile;compta@etoile.example;;;fr;;10000,00;0\n"
    "C0043;Garage Müller;;;;fr;;;0\n"
)
HEADER = "id;customer;type;number;date;due;label;amount;match\n"


def write_source(folder: Path, *entries: str) -> None:
    folder.mkdir(exist_ok=True)
    (folder / "customers.csv").write_text(CUSTOMERS, encoding="utf-8")
    (folder / "entries.csv").write_text(
        HEADER + "".join(f"{e}\n" for e in entries), encoding="utf-8"
    )


FA1 = "E1;C0042;invoice;FA1;01/09/2026;01/10/2026;Facture;8500,00;{match}"  # deadline 31/10
FA2 = "E2;C0042;invoice;FA2;27/10/2026;26/11/2026;Facture;2000,00;"
FA9 = "E9;C0043;invoice;FA9;01/09/2026;01/10/2026;Facture;300,00;"  # uninsured, small
PAID = "E3;C0042;payment;VIR-1;01/11/2026;;Virement;8500,00;A"


def setup(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    smtp_port: int,
    provider: Provider | None = None,
    folder: bool = True,
    credit: str = "",
) -> Path:
    monkeypatch.setenv("SC_TEST_HOOK_TOKEN", "hook-secret-123")
    hook = (
        f"""
[credit.notify.hook]
kind = "webhook"
url = "{provider.url}/alerts"
timeout = 2
token = {{ env = "SC_TEST_HOOK_TOKEN" }}
"""
        if provider
        else ""
    )
    box = '\n[credit.notify.box]\nkind = "folder"\npath = "outbox"\n' if folder else ""
    config = tmp_path / "config.toml"
    config.write_text(
        f"""
[store]
url = "sqlite:///{tmp_path / "store.db"}"

[credit]
{credit}
[credit.policies.main]
insurer = "Allianz Trade"
declaration_days = 30
warn_days = [7, 3]

[credit.notify.mail]
kind = "smtp"
host = "127.0.0.1"
port = {smtp_port}
security = "none"
timeout = 5
from_address = "alertes@acme.example"
to = ["credit@acme.example", "daf@acme.example"]
{hook}{box}
[companies.acme]
name = "ACME SAS"
policy = "main"

[companies.acme.source]
mapping = "csv"
path = "src"
""",
        encoding="utf-8",
    )
    return config


def alerts(config: Path, clock: Clock, *argv: str) -> int:
    """``sageconnect alerts ...`` through cli_credit.register, as cli.main wires it."""
    parser = argparse.ArgumentParser(prog="sageconnect")
    sub = parser.add_subparsers(required=True)

    def command(
        name: str, help_: str, func: cli_credit.Command
    ) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_)
        p.add_argument("-c", "--config", required=True)
        p.set_defaults(func=func)
        return p

    cli_credit.register(command)
    args = parser.parse_args(["alerts", *argv, "-c", str(config)])
    logs.configure()
    loaded = load(Path(args.config))
    logs.configure(loaded.logging.level, loaded.logging.format)
    status: int = args.func(args, loaded, clock)
    return status


def events(err: str) -> list[dict[str, Any]]:
    return [json.loads(x) for x in err.splitlines() if x.startswith("{")]


def on(day: dt.date) -> FixedClock:
    return FixedClock(dt.datetime.combine(day, dt.time(8), tzinfo=dt.UTC))


def subjects(box: Mailbox) -> list[str]:
    """Subjects as read (Python folds before an encoded word: spaces normalised)."""
    return [" ".join(str(r.message()["Subject"]).split()) for r in box.received]


def test_each_alert_is_raised_escalated_and_cleared_once(  # noqa: PLR0915 - one story
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    smtp_server: StartSmtp,
    provider: Provider,
    capsys: pytest.CaptureFixture[str],
) -> None:
    port, box = smtp_server()
    config = setup(tmp_path, monkeypatch, smtp_port=port, provider=provider)
    src = tmp_path / "src"
    write_source(src, FA1.format(match=""), FA9)

    # 24/10, deadline - 7: FA1 to declare (d7), C0042 at 85 % of its limit
    clock = on(dt.date(2026, 10, 24))
    assert main(["sync", "-c", str(config)], clock) == 0
    capsys.readouterr()
    assert alerts(config, clock, "check") == 0
    logged = events(capsys.readouterr().err)
    raised = sorted(
        (e["kind"], e["alert_level"]) for e in logged if e["event"] == "alert_raised"
    )
    assert raised == [("declaration", "d7"), ("exposure", "warning")]
    assert subjects(box) == [
        "[sageconnect] Alerte encours : C0042 proche de la limite assurée",
        "[sageconnect] Alerte déclaration : C0042 : facture FA1 à déclarer avant le 31/10/2026 (J-7)",
    ]
    mail = box.received[0].message()
    assert mail["To"] == "credit@acme.example, daf@acme.example"
    assert sorted(box.received[0].rcpt_tos) == [
        "credit@acme.example",
        "daf@acme.example",
    ]
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    assert "Encours : 8\u00a0500,00\u00a0EUR" in text
    assert "Café de l'Étoile" in text
    assert len(provider.received) == 2
    hook = provider.received[0]
    assert hook.path == "/alerts"
    assert hook.headers["idempotency-key"] == hook.body["key"]
    assert hook.headers["authorization"] == "Bearer hook-secret-123"
    assert hook.body["company"] == "acme"
    assert {
        k: hook.body["alert"][k] for k in ("kind", "level", "event", "customer")
    } == {
        "kind": "exposure",
        "level": "warning",
        "event": "raised",
        "customer": "C0042",
    }
    assert hook.body["alert"]["facts"]["limit"] == "10000.00"
    keys = notice_states(config)  # one notice per target, each its own key
    mail_key = str(mail["Message-ID"]).strip("<>").split("@")[0]
    assert mail_key in keys
    assert hook.headers["idempotency-key"] in keys
    assert mail_key != hook.headers["idempotency-key"]
    outbox = sorted((tmp_path / "outbox").glob("*.json"))
    assert len(outbox) == 2
    written = json.loads(outbox[0].read_text(encoding="utf-8"))
    assert written["subject"].startswith("[sageconnect] Alerte")
    whole = json.dumps(logged)
    assert "@" not in whole
    assert "hook-secret-123" not in whole
    assert "Étoile" not in whole  # names stay out of the logs

    # the same day again: nothing more
    assert alerts(config, clock, "check") == 0
    assert (len(box.received), len(provider.received)) == (2, 2)

    # 28/10, deadline - 3, and FA2 takes C0042 over its limit: two escalations
    clock = on(dt.date(2026, 10, 28))
    write_source(src, FA1.format(match=""), FA2, FA9)
    assert main(["sync", "-c", str(config)], clock) == 0
    capsys.readouterr()
    assert alerts(config, clock, "check") == 0
    logged = events(capsys.readouterr().err)
    escalated = sorted(
        (e["kind"], e["previous_level"], e["alert_level"])
        for e in logged
        if e["event"] == "alert_escalated"
    )
    assert escalated == [("declaration", "d7", "d3"), ("exposure", "warning", "over")]
    assert subjects(box)[2:] == [
        "[sageconnect] Alerte encours aggravée : C0042 au-dessus de la limite assurée",
        "[sageconnect] Alerte déclaration aggravée : C0042 : facture FA1 à déclarer avant le 31/10/2026 (J-3)",
    ]
    (finished,) = [e for e in logged if e["event"] == "alerts_finished"]
    assert (finished["escalated"], finished["sent"], finished["active"]) == (2, 6, 2)

    # 29/10: still d3, still over: nothing
    clock = on(dt.date(2026, 10, 29))
    assert alerts(config, clock, "check") == 0
    assert (len(box.received), len(provider.received)) == (4, 4)

    # 02/11: FA1 paid: both alerts clear, once
    clock = on(dt.date(2026, 11, 2))
    write_source(src, FA1.format(match="A"), FA2, FA9, PAID)
    assert main(["sync", "-c", str(config)], clock) == 0
    capsys.readouterr()
    assert alerts(config, clock, "check") == 0
    cleared = sorted(
        e["kind"]
        for e in events(capsys.readouterr().err)
        if e["event"] == "alert_cleared"
    )
    assert cleared == ["declaration", "exposure"]
    assert [s.split(" : ")[0] for s in subjects(box)[4:]] == [
        "[sageconnect] Alerte déclaration levée",
        "[sageconnect] Alerte encours levée",
    ]
    assert [r.body["alert"]["event"] for r in provider.received[4:]] == [
        "cleared",
        "cleared",
    ]
    assert alerts(config, on(dt.date(2026, 11, 3)), "check") == 0
    assert (len(box.received), len(provider.received)) == (6, 6)
    assert len(list((tmp_path / "outbox").glob("*.json"))) == 6
    posted = [r.headers["idempotency-key"] for r in provider.received]
    assert len(set(posted)) == len(posted)

    capsys.readouterr()
    assert alerts(config, clock, "list", "--format", "json") == 0
    assert json.loads(capsys.readouterr().out) == []
    assert alerts(config, clock, "list", "--all", "--format", "json") == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(r["kind"], r["level"], r["since"], r["cleared"]) for r in listed] == [
        ("declaration", "d3", "2026-10-24", "2026-11-02"),
        ("exposure", "over", "2026-10-24", "2026-11-02"),
    ]


def test_list_shows_the_alerts_that_hold(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    smtp_server: StartSmtp,
    capsys: pytest.CaptureFixture[str],
) -> None:
    port, _ = smtp_server()
    config = setup(tmp_path, monkeypatch, smtp_port=port, folder=False)
    write_source(tmp_path / "src", FA1.format(match=""), FA9)
    clock = on(dt.date(2026, 11, 2))
    main(["sync", "-c", str(config)], clock)
    assert alerts(config, clock, "check") == 0
    capsys.readouterr()
    assert alerts(config, clock, "list", "--format", "csv") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "company,kind,customer,subject,level,since,message"
    assert [line.split(",")[1:5] for line in lines[1:]] == [
        ["declaration", "C0042", "FA1", "late"],
        ["exposure", "C0042", "", "warning"],
    ]
    assert alerts(config, clock, "list") == 0
    assert "declaration" in capsys.readouterr().out


def test_a_refusal_before_data_is_retried_and_delivered_once(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    smtp_server: StartSmtp,
    capsys: pytest.CaptureFixture[str],
) -> None:
    port, box = smtp_server("mail421")
    config = setup(tmp_path, monkeypatch, smtp_port=port, folder=False)
    write_source(tmp_path / "src", FA1.format(match=""), FA9)
    clock = on(dt.date(2026, 10, 20))  # before the countdown: the exposure alone
    main(["sync", "-c", str(config)], clock)
    capsys.readouterr()
    assert alerts(config, clock, "check") == 0
    assert box.received == []
    assert [
        e["event"] for e in events(capsys.readouterr().err) if "notice" in e["event"]
    ] == ["alert_notice_retry"]
    box.mode = "accept"
    for hours in (1, 2):
        assert (
            alerts(config, FixedClock(clock.now() + dt.timedelta(hours=hours)), "check")
            == 0
        )
    assert subjects(box) == [
        "[sageconnect] Alerte encours : C0042 proche de la limite assurée"
    ]


def test_a_refusal_for_good_fails_with_status_65(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp_server: StartSmtp
) -> None:
    port, box = smtp_server("body554")
    config = setup(tmp_path, monkeypatch, smtp_port=port, folder=False)
    write_source(tmp_path / "src", FA1.format(match=""), FA9)
    clock = on(dt.date(2026, 10, 20))
    main(["sync", "-c", str(config)], clock)
    assert alerts(config, clock, "check") == 65
    box.mode = "accept"
    assert alerts(config, clock, "check") == 0  # failed: not sent again
    assert len(box.received) == 1


def test_insurer_decisions_dropped_as_files_are_read_first(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    smtp_server: StartSmtp,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The insurer cut C0042's limit from 10 000 to 6 000: reduced, and over it."""
    port, box = smtp_server()
    config = setup(
        tmp_path,
        monkeypatch,
        smtp_port=port,
        folder=False,
        credit='covers_folder = "covers"',
    )
    write_source(tmp_path / "src", FA1.format(match=""), FA9)
    (tmp_path / "covers").mkdir()
    (tmp_path / "covers" / "allianz.csv").write_text(
        "customer;insurer;limit;decision;reference;valid_from\n"
        "C0042;Allianz Trade;10000,00;approved;AG-1;2026-01-01\n"
        "C0042;Allianz Trade;6000,00;reduced;AG-2;2026-10-01\n",
        encoding="utf-8",
    )
    clock = on(dt.date(2026, 10, 20))
    main(["sync", "-c", str(config)], clock)
    capsys.readouterr()
    assert alerts(config, clock, "check") == 0
    logged = events(capsys.readouterr().err)
    assert any(e["event"] == "covers_imported" and e["added"] == 2 for e in logged)
    assert sorted(subjects(box)) == [
        "[sageconnect] Alerte assurance-crédit : C0042 : limite assurée réduite",
        "[sageconnect] Alerte encours : C0042 au-dessus de la limite assurée",
    ]
    assert not list((tmp_path / "covers").glob("*.csv"))  # read once, moved away


def test_never_synced_is_a_temporary_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp_server: StartSmtp
) -> None:
    port, box = smtp_server()
    config = setup(tmp_path, monkeypatch, smtp_port=port, folder=False)
    assert alerts(config, on(dt.date(2026, 10, 20)), "check") == 75
    assert box.received == []


# --- a crash between sending and recording, in a child process ---------------------

CHILD = """
import argparse, sys
from pathlib import Path
from sageconnect import cli_credit, logs
from sageconnect.clock import SystemClock
from sageconnect.config import load

parser = argparse.ArgumentParser(prog="sageconnect")
sub = parser.add_subparsers(required=True)

def command(name, help_, func):
    p = sub.add_parser(name, help=help_)
    p.add_argument("-c", "--config", required=True)
    p.set_defaults(func=func)
    return p

cli_credit.register(command)
args = parser.parse_args(sys.argv[1:])
logs.configure()
config = load(Path(args.config))
sys.exit(args.func(args, config, SystemClock()))
"""


def child(config: Path, *argv: str, failpoint: str) -> int:
    env = {**os.environ, "SAGECONNECT_FAILPOINTS": failpoint}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, "alerts", *argv, "-c", str(config)],
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    return done.returncode


def notice_states(config: Path) -> dict[str, str]:
    engine = open_store(f"sqlite:///{config.parent / 'store.db'}")
    with engine.connect() as conn:
        rows = conn.execute(select(alert_notices.c.key, alert_notices.c.state)).all()
    engine.dispose()
    return {k: s for k, s in rows}  # noqa: C416 - Row typing


def test_a_crash_after_sending_leaves_the_notice_uncertain_never_resent(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    smtp_server: StartSmtp,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Killed after the server took the mail: the claim lapses into uncertain,
    reported (exit 65, alert_notice_uncertain), and never sent again."""
    port, box = smtp_server()
    config = setup(tmp_path, monkeypatch, smtp_port=port, folder=False)
    now = dt.datetime.now(dt.UTC)
    day = now.date()
    issued, due = day - dt.timedelta(days=10), day + dt.timedelta(days=20)
    entry = f"E1;C0042;invoice;FA1;{issued:%d/%m/%Y};{due:%d/%m/%Y};Facture;8500,00;"
    write_source(tmp_path / "src", entry)
    assert main(["sync", "-c", str(config)], FixedClock(now)) == 0
    assert (
        child(config, "check", failpoint="alert.after_send_before_record=exit") == 137
    )
    assert len(box.received) == 1
    (key,) = notice_states(config)
    assert notice_states(config) == {key: "claimed"}
    assert key in str(box.received[0].message()["Message-ID"])

    later = FixedClock(now + dt.timedelta(minutes=20))  # past the 15-minute lease
    capsys.readouterr()
    assert alerts(config, later, "check") == 65
    logged = events(capsys.readouterr().err)
    assert any(
        e["event"] == "alert_notice_uncertain" and e["key"] == key for e in logged
    )
    assert notice_states(config) == {key: "uncertain"}
    assert alerts(config, FixedClock(now + dt.timedelta(hours=2)), "check") == 0
    assert len(box.received) == 1
    assert notice_states(config) == {key: "uncertain"}
    capsys.readouterr()
    assert (
        alerts(config, later, "notices", "--state", "uncertain", "--format", "json")
        == 0
    )
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["key"], row["target"], row["event"], row["kind"]) == (
        key,
        "mail",
        "raised",
        "exposure",
    )


def test_a_crash_before_sending_is_uncertain_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp_server: StartSmtp
) -> None:
    """Claimed, then killed: the ledger cannot tell; it says so, and sends nothing."""
    port, box = smtp_server()
    config = setup(tmp_path, monkeypatch, smtp_port=port, folder=False)
    now = dt.datetime.now(dt.UTC)
    day = now.date()
    entry = (
        f"E1;C0042;invoice;FA1;{day - dt.timedelta(days=10):%d/%m/%Y};"
        f"{day + dt.timedelta(days=20):%d/%m/%Y};Facture;8500,00;"
    )
    write_source(tmp_path / "src", entry)
    main(["sync", "-c", str(config)], FixedClock(now))
    assert child(config, "check", failpoint="alert.after_claim_commit") == 137
    assert alerts(config, FixedClock(now + dt.timedelta(minutes=20)), "check") == 65
    assert box.received == []
    assert set(notice_states(config).values()) == {"uncertain"}


def test_decimal_facts_survive_the_store(engine: Engine) -> None:
    """Facts are text: amounts come back exactly as evaluate wrote them."""
    company = new_company(engine)
    step(engine, company, [exposure("warning", 1, str(Decimal("8500.10")))], NOW)
    with engine.begin() as conn:
        (row,) = ledger.active(conn, company)
    assert row.facts == {"exposure": "8500.10", "limit": "10000.00"}
    assert row.raised_at == NOW
