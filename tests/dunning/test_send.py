"""The whole cycle against real servers: each reminder reaches the customer once.

A real SMTP server (aiosmtpd) and a real HTTP provider on loopback; crashes
injected with failpoints in a child process (RELIABILITY.md section 9, tests 5-8
and 10).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from processes import child
from sageconnect.cli import main
from sageconnect.clock import FixedClock
from sageconnect.store.engine import open_store
from sageconnect.store.tables import reminders
from servers import Mailbox, Provider, StartSmtp
from support import fec_lines

TODAY = dt.date(2026, 11, 24)


def fec(today: dt.date) -> str:
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
        day = (today - dt.timedelta(days=30 + late)).strftime("%Y%m%d")
        head = f"VE|Ventes|{n}|{day}"
        tail = f"FA{n}|{day}|Facture FA{n}"
        lines += [
            f"{head}|41100000|Clients|{customer}|{name}|{tail}|{amount}|0,00|||{day}||",
            f"{head}|70600000|Prestations|||{tail}|0,00|{amount}|||{day}||",
        ]
    return fec_lines(*lines)


def setup(
    tmp_path: Path, smtp_port: int, provider: Provider, today: dt.date = TODAY
) -> Path:
    (tmp_path / "fec").mkdir(exist_ok=True)
    (tmp_path / "fec" / "1FEC20261231.txt").write_text(fec(today), encoding="utf-8")
    (tmp_path / "contacts.csv").write_text(
        "customer;email;phone;contact;language\n"
        "C1;compta@etoile.example;06 12 34 56 78;Mme Durand;fr\n"
        "C2;ap@muller.example;07 98 76 54 32;;en\n",
        encoding="utf-8",
    )
    config = tmp_path / "config.toml"
    config.write_text(
        f"""
[store]
url = "sqlite:///{tmp_path / "store.db"}"

[companies.acme]
name = "ACME SAS"
contacts = "contacts.csv"

[companies.acme.source]
mapping = "fec"
path = "fec"

[dunning]
lease_minutes = 15
[dunning.sender]
email = "relances@acme.example"
[dunning.scenarios.standard]
steps = [
  {{ id = "first_reminder", days = 5, channels = ["email", "sms"], template = "first_reminder" }},
  {{ id = "formal_notice", days = 45, channels = ["email"], template = "formal_notice", tone = "formal", claim_interest = true, claim_indemnity = true, pay_within_days = 8 }},
]
[dunning.channels.email]
kind = "smtp"
host = "127.0.0.1"
port = {smtp_port}
security = "none"
timeout = 5
from_address = "relances@acme.example"
bcc = "credit.manager@acme.example"
[dunning.channels.sms]
kind = "webhook"
url = "{provider.url}/sms"
timeout = 2
""",
        encoding="utf-8",
    )
    return config


def events(err: str) -> list[dict[str, Any]]:
    return [json.loads(x) for x in err.splitlines() if x.startswith("{")]


def sent_to(box: Mailbox) -> list[str]:
    return sorted(str(r.message()["To"]) for r in box.received)


def states(config: Path) -> dict[str, str]:
    engine = open_store(f"sqlite:///{config.parent / 'store.db'}")
    with engine.connect() as conn:
        rows = conn.execute(select(reminders.c.key, reminders.c.state)).all()
    return {k: s for k, s in rows}  # noqa: C416 - Row typing


def test_a_cycle_sends_each_reminder_once_and_a_second_cycle_nothing(
    tmp_path: Path,
    smtp_server: StartSmtp,
    provider: Provider,
    clock: FixedClock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    port, box = smtp_server()
    config = setup(tmp_path, port, provider)
    assert main(["run", "--once", "-c", str(config)], clock) == 0
    assert sent_to(box) == [
        "Garage Müller <ap@muller.example>",
        "Mme Durand <compta@etoile.example>",
    ]
    etoile = next(r for r in box.received if "etoile" in str(r.message()["To"]))
    assert "credit.manager@acme.example" in etoile.rcpt_tos  # BCC: envelope only
    mail = etoile.message()
    assert "Bcc" not in mail
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    assert "FA1" in text
    assert "FA2" in text
    assert "1\u00a0500,00\u00a0EUR" in text  # both invoices, one message, in French
    assert str(mail["Message-ID"]).startswith("<")
    assert len(provider.received) == 2  # and one SMS per customer
    capsys.readouterr()
    clock.advance(dt.timedelta(hours=2))
    assert main(["run", "--once", "-c", str(config)], clock) == 0
    finished = [
        e for e in events(capsys.readouterr().err) if e["event"] == "send_finished"
    ]
    assert (finished[0]["sent"], finished[0]["planned"]) == (0, 0)
    assert len(box.received) == 2
    assert len(provider.received) == 2


def test_the_sms_carries_the_ledger_key_as_idempotency_key(
    tmp_path: Path, smtp_server: StartSmtp, provider: Provider, clock: FixedClock
) -> None:
    port, _ = smtp_server()
    config = setup(tmp_path, port, provider)
    main(["run", "--once", "-c", str(config)], clock)
    keys = {r.headers["idempotency-key"] for r in provider.received}
    assert len(keys) == 2
    assert keys <= set(states(config))
    assert {r.body["recipient"]["phone"] for r in provider.received} == {
        "+33612345678",
        "+33798765432",
    }


def test_a_refusal_before_data_is_retried_next_cycle_and_delivered_once(
    tmp_path: Path, smtp_server: StartSmtp, provider: Provider, clock: FixedClock
) -> None:
    """421 at MAIL FROM: nothing left; the next cycle delivers, once."""
    port, box = smtp_server("mail421")
    config = setup(tmp_path, port, provider)
    main(["run", "--once", "-c", str(config)], clock)
    assert box.received == []
    assert "planned" in states(config).values()
    box.mode = "accept"
    clock.advance(dt.timedelta(hours=1))
    main(["run", "--once", "-c", str(config)], clock)
    clock.advance(dt.timedelta(hours=1))
    main(["run", "--once", "-c", str(config)], clock)
    assert len(box.received) == 2


def test_a_drop_after_the_body_is_uncertain_and_never_resent(
    tmp_path: Path,
    smtp_server: StartSmtp,
    provider: Provider,
    clock: FixedClock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """RFC 1047's window: the server has it, we cannot know. Report, do not repeat."""
    port, box = smtp_server("drop")
    config = setup(tmp_path, port, provider)
    assert main(["send", "-c", str(config)], clock) == 75  # never synced: try later
    main(["sync", "-c", str(config)], clock)
    capsys.readouterr()
    assert main(["send", "-c", str(config)], clock) == 65  # something uncertain
    uncertain = [
        e for e in events(capsys.readouterr().err) if e["event"] == "reminder_uncertain"
    ]
    assert len(uncertain) == 2
    assert all("@" not in json.dumps(e) for e in uncertain)  # no address in logs
    box.mode = "accept"
    clock.advance(dt.timedelta(hours=1))
    main(["send", "-c", str(config)], clock)
    assert len(box.received) == 2  # the two dropped ones, never a second time


def test_paid_and_disputed_items_are_dropped_before_sending(
    tmp_path: Path, smtp_server: StartSmtp, provider: Provider, clock: FixedClock
) -> None:
    """Planned while the server refused; then FA1 is paid and FA3 disputed: the next
    cycle sends C1 a reminder for FA2 alone and nothing to C2."""
    port, box = smtp_server("mail421")
    config = setup(tmp_path, port, provider)
    main(["run", "--once", "-c", str(config)], clock)
    assert box.received == []
    text = (tmp_path / "fec" / "1FEC20261231.txt").read_text(encoding="utf-8")
    receipt = [
        "BQ|Banque|9|20261123|51200000|Banque|||R1|20261123|VIR FA1|1200,00|0,00|||20261123||",
        "BQ|Banque|9|20261123|41100000|Clients|C1|Café de l'Étoile|R1|20261123|VIR FA1|0,00|1200,00|||20261123||",
    ]
    (tmp_path / "fec" / "1FEC20261231.txt").write_text(
        text + "\n".join(receipt) + "\n", encoding="utf-8"
    )
    main(["sync", "-c", str(config)], clock)
    assert (
        main(
            [
                "dispute",
                "add",
                "-c",
                str(config),
                "--customer",
                "C2",
                "--invoice",
                "FA3",
                "--reason",
                "goods returned",
            ],
            clock,
        )
        == 0
    )
    box.mode = "accept"
    clock.advance(dt.timedelta(hours=1))
    main(["send", "-c", str(config)], clock)
    (only,) = box.received
    body = only.message().get_body(preferencelist=("plain",))
    assert body is not None
    content = body.get_content()
    assert "FA2" in content
    assert "FA1" not in content
    assert "cancelled" in states(config).values()


def test_stale_data_stops_sending(
    tmp_path: Path,
    smtp_server: StartSmtp,
    provider: Provider,
    clock: FixedClock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The last good sync is 27 hours old (freshness 26 h): nothing goes out, exit 75."""
    port, box = smtp_server()
    config = setup(tmp_path, port, provider)
    main(["sync", "-c", str(config)], clock)
    clock.advance(dt.timedelta(hours=27))
    capsys.readouterr()
    assert main(["send", "-c", str(config)], clock) == 75
    (refused,) = [
        e for e in events(capsys.readouterr().err) if e["event"] == "send_refused"
    ]
    assert "stale" in refused["reason"]
    assert box.received == []


# --- crashes, in a child process ----------------------------------------------


@pytest.mark.parametrize(
    ("failpoint", "received_before"),
    [
        ("send.after_provider_ok_before_record", 1),  # it left: never again
        ("send.after_claim_commit", 0),  # claimed, nothing left yet
    ],
)
def test_a_crash_never_yields_two_messages_for_one_key(  # noqa: PLR0917 - fixtures
    tmp_path: Path,
    smtp_server: StartSmtp,
    provider: Provider,
    capsys: pytest.CaptureFixture[str],
    failpoint: str,
    received_before: int,
) -> None:
    """Killed mid-send: the row is uncertain after the lease, reported, not resent;
    resolved by hand it is either settled (sent) or sent once (not sent)."""
    today = dt.date.today()  # noqa: DTZ011 - the child reads the real clock
    port, box = smtp_server()
    config = setup(tmp_path, port, provider, today)
    assert child(config, "sync") == 0
    assert child(config, "send", failpoint=failpoint) == 137
    assert len(box.received) == received_before
    (key,) = [k for k, s in states(config).items() if s == "claimed"]
    later = FixedClock(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=20))
    capsys.readouterr()
    main(["send", "-c", str(config)], later)
    logged = events(capsys.readouterr().err)
    assert any(e["event"] == "reminder_uncertain" and e["key"] == key for e in logged)
    assert states(config)[key] == "uncertain"
    assert len([r for r in box.received if key in str(r.message()["Message-ID"])]) == (
        received_before
    )
    settle = "--sent" if received_before else "--not-sent"
    assert main(["reminders", "resolve", key, settle, "-c", str(config)], later) == 0
    main(["send", "-c", str(config)], later)
    main(["send", "-c", str(config)], later)
    mine = [r for r in box.received if key in str(r.message()["Message-ID"])]
    assert len(mine) == 1
    assert states(config)[key] == "sent"
