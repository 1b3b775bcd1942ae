"""The file writer and plug-in writers through the job, and the configuration
mistakes an integrator can make (each stops with exit 78 naming the key)."""

from __future__ import annotations

import datetime as dt
import importlib
import json
import sys
from pathlib import Path

import pytest

from sageconnect.cli import main
from sageconnect.clock import FixedClock
from sageconnect.config import load
from sageconnect.testing import assert_note_writer
from sageconnect.writeback.writers import build_writer
from servers import StartSmtp
from support import fec_lines

NOW = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)
TODAY = NOW.date()

PLUGIN = """
import json
from pathlib import Path


class JsonlWriter:
    name = "acme-notes"
    length = 255
    encoding = "utf-8"

    def __init__(self, context):
        self.path = Path(context.options["path"])

    def exists(self, note):
        return self.path.exists() and note.marker in self.path.read_text("utf-8")

    def write(self, note):
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps({"customer": note.customer, "text": note.text}) + "\\n")

    def close(self):
        pass


def make(context):
    return JsonlWriter(context)
"""


@pytest.fixture
def installed_writer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A package declaring an acme-notes writer, installed on sys.path as pip would."""
    site = tmp_path / "site"
    dist = site / "acme_notes-0.1.dist-info"
    dist.mkdir(parents=True)
    (site / "acme_notes.py").write_text(PLUGIN, encoding="utf-8")
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: acme-notes\nVersion: 0.1\n", encoding="utf-8"
    )
    (dist / "entry_points.txt").write_text(
        "[sageconnect.note_writers]\nacme-notes = acme_notes:make\n", encoding="utf-8"
    )
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delitem(sys.modules, "acme_notes", raising=False)
    importlib.invalidate_caches()
    return site


def fec_company(
    tmp_path: Path, writeback: str, store: str = "", email: str = ""
) -> Path:
    """A FEC company: C1 owes FA1 (20 days late), C2 owes FA2 (10 days late)."""
    lines = []
    for n, (customer, name, late) in enumerate(
        [("C1", "Café de l'Étoile", 20), ("C2", "Garage Müller", 10)], start=1
    ):
        day = (TODAY - dt.timedelta(days=30 + late)).strftime("%Y%m%d")
        head, tail = f"VE|Ventes|{n}|{day}", f"FA{n}|{day}|Facture FA{n}"
        lines += [
            f"{head}|41100000|Clients|{customer}|{name}|{tail}|1200,00|0,00|||{day}||",
            f"{head}|70600000|Prestations|||{tail}|0,00|1200,00|||{day}||",
        ]
    (tmp_path / "fec").mkdir()
    (tmp_path / "fec" / "1FEC20261231.txt").write_text(
        fec_lines(*lines), encoding="utf-8"
    )
    (tmp_path / "contacts.csv").write_text(
        "customer;email\nC1;compta@etoile.example\nC2;ap@muller.example\n",
        encoding="utf-8",
    )
    config = tmp_path / "config.toml"
    config.write_text(
        f"""
[store]
url = "{store or f"sqlite:///{tmp_path / 'store.db'}"}"
[companies.acme]
name = "ACME SAS"
contacts = "contacts.csv"
[companies.acme.source]
mapping = "fec"
path = "fec"
[companies.acme.writeback]
{writeback}
[dunning]
[dunning.scenarios.standard]
steps = [{{ id = "first_reminder", days = 5, channels = ["email"], template = "first_reminder" }}]
[dunning.channels.email]
{email or f'kind = "folder"{chr(10)}path = "{tmp_path / "mails"}"'}
""",
        encoding="utf-8",
    )
    return config


def test_the_file_writer_drops_one_line_per_reminder_in_the_day_file(
    tmp_path: Path,
) -> None:
    """A company without ODBC gets its notes as a daily CSV, each line once."""
    config = fec_company(tmp_path, 'writer = "file"\nfolder = "notes"')
    clock = FixedClock(NOW)
    assert main(["run", "--once", "-c", str(config)], clock) == 0
    assert main(["writeback", "-c", str(config)], clock) == 0
    clock.advance(dt.timedelta(days=1))
    assert main(["writeback", "-c", str(config)], clock) == 0
    (day_file,) = (tmp_path / "notes").glob("*.csv")
    assert day_file.name == "sageconnect-notes-acme-20261124.csv"
    lines = day_file.read_bytes().decode("cp1252").splitlines()
    assert lines[0].startswith("date;societe;client;repere;")
    assert sorted(line.split(";")[2] for line in lines[1:]) == ["C1", "C2"]
    assert all("relance 1 e-mail envoyée ; fact. FA" in line for line in lines[1:])


def test_a_plugin_writer_named_in_the_config_gets_every_note_once(
    installed_writer: Path, tmp_path: Path
) -> None:
    """An installed sageconnect.note_writers entry point, given its options."""
    out = tmp_path / "crm.jsonl"
    config = fec_company(
        tmp_path, f'writer = "acme-notes"\noptions = {{ path = "{out}" }}'
    )
    clock = FixedClock(NOW)
    assert main(["run", "--once", "-c", str(config)], clock) == 0
    assert main(["run", "--once", "-c", str(config)], clock) == 0
    written = [json.loads(x) for x in out.read_text("utf-8").splitlines()]
    assert sorted(w["customer"] for w in written) == ["C1", "C2"]
    assert all(w["text"].endswith("étape first_reminder") for w in written)


def test_a_plugin_writer_passes_the_contract_suite(
    installed_writer: Path, tmp_path: Path
) -> None:
    """sageconnect.testing.assert_note_writer works on a plug-in as on ours."""
    config = fec_company(
        tmp_path, f'writer = "acme-notes"\noptions = {{ path = "{tmp_path / "x"}" }}'
    )
    assert_note_writer(build_writer(load(config), "acme", FixedClock(NOW)))


@pytest.mark.parametrize(
    ("writeback", "key", "expected"),
    [
        ('writer = "odbc"', "companies.acme.writeback.writer", "[notes] section"),
        ('writer = "file"', "companies.acme.writeback", "folder ="),
        ('writer = "nope"', "companies.acme.writeback.writer", "one of: odbc, file"),
        (
            'writer = "file"\nfolder = "n"\nentries = true',
            "companies.acme.writeback",
            "entries = true needs",
        ),
        (  # a login of its own, on the source's connection: it would be ignored
            'writer = "file"\nfolder = "n"\nuser = "notes"',
            "companies.acme.writeback",
            "user and password go with dsn or connection_string",
        ),
    ],
)
def test_a_writeback_that_cannot_work_stops_with_exit_78(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    writeback: str,
    key: str,
    expected: str,
) -> None:
    """The key, the value and what was expected, before anything is written."""
    config = fec_company(tmp_path, writeback)
    assert main(["writeback", "-c", str(config)], FixedClock(NOW)) == 78
    err = capsys.readouterr().err
    assert key in err
    assert expected in err


def test_the_queue_lists_each_note_with_its_state(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """writeback --list shows what is queued, written, and the full text."""
    config = fec_company(tmp_path, 'writer = "file"\nfolder = "notes"')
    clock = FixedClock(NOW)
    assert main(["run", "--once", "-c", str(config)], clock) == 0
    capsys.readouterr()
    assert main(["writeback", "--list", "--format", "json", "-c", str(config)]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert sorted((n["customer"], n["state"]) for n in listed) == [
        ("C1", "written"),
        ("C2", "written"),
    ]
    assert all(n["text"].startswith(n["marker"]) for n in listed)


def test_reminders_sent_before_since_get_no_note(tmp_path: Path) -> None:
    """writeback.since keeps a new installation from writing years of history."""
    config = fec_company(
        tmp_path, 'writer = "file"\nfolder = "notes"\nsince = 2026-12-01'
    )
    assert main(["run", "--once", "-c", str(config)], FixedClock(NOW)) == 0
    assert not list((tmp_path / "notes").glob("*.csv"))


def test_a_failed_write_waits_then_goes_through_once_on_either_store(
    store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The queue on SQLite and PostgreSQL: a blocked folder makes the notes wait
    (exit 75, writeback_pending), the retry delay is kept, then each goes once."""
    config = fec_company(tmp_path, 'writer = "file"\nfolder = "notes"', store_url)
    (tmp_path / "notes").write_text("not a folder", encoding="utf-8")
    clock = FixedClock(NOW)
    capsys.readouterr()
    assert main(["run", "--once", "-c", str(config)], clock) == 75
    logged = [json.loads(x) for x in capsys.readouterr().err.splitlines()]
    (pending,) = [e for e in logged if e["event"] == "writeback_pending"]
    assert pending["pending"] == 2
    assert "not a folder" not in pending["reason"]
    (tmp_path / "notes").unlink()
    assert main(["writeback", "-c", str(config)], clock) == 0  # not due yet
    assert not (tmp_path / "notes").exists()
    clock.advance(dt.timedelta(minutes=5))
    assert main(["writeback", "-c", str(config)], clock) == 0
    assert main(["writeback", "-c", str(config)], clock) == 0
    (day_file,) = (tmp_path / "notes").glob("*.csv")
    assert len(day_file.read_bytes().splitlines()) == 1 + 2


def test_check_reports_a_writeback_that_cannot_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """sageconnect check finds a writer the mapping cannot serve, before any run."""
    config = fec_company(tmp_path, 'writer = "odbc"')
    assert main(["check", "-c", str(config)]) == 78
    assert "companies.acme.writeback.writer" in capsys.readouterr().err


def test_now_writes_the_notes_waiting_out_their_delay(tmp_path: Path) -> None:
    """Once the target is back, writeback --now need not wait for the next try."""
    config = fec_company(tmp_path, 'writer = "file"\nfolder = "notes"')
    (tmp_path / "notes").write_text("", encoding="utf-8")
    clock = FixedClock(NOW)
    assert main(["run", "--once", "-c", str(config)], clock) == 75
    (tmp_path / "notes").unlink()
    assert main(["writeback", "-c", str(config)], clock) == 0
    assert not (tmp_path / "notes").exists()
    assert main(["writeback", "--now", "-c", str(config)], clock) == 0
    (day_file,) = (tmp_path / "notes").glob("*.csv")
    assert len(day_file.read_bytes().splitlines()) == 1 + 2


def test_a_refused_reminder_gets_a_failed_note_with_the_reply(
    tmp_path: Path, smtp_server: StartSmtp
) -> None:
    """outcomes = ["sent", "failed"]: the customer whose mailbox refused gets a
    note saying so (the address masked), the other one its sent note."""
    port, box = smtp_server("rcpt550")
    box.refused = "compta@etoile.example"
    smtp = (
        f'kind = "smtp"\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
        'timeout = 5\nfrom_address = "relances@acme.example"'
    )
    config = fec_company(
        tmp_path,
        'writer = "file"\nfolder = "notes"\noutcomes = ["sent", "failed"]',
        email=smtp,
    )
    clock = FixedClock(NOW)
    assert main(["run", "--once", "-c", str(config)], clock) == 65
    assert main(["run", "--once", "-c", str(config)], clock) == 0
    (day_file,) = (tmp_path / "notes").glob("*.csv")
    lines = day_file.read_bytes().decode("cp1252").splitlines()[1:]
    by_customer = {line.split(";")[2]: line for line in lines}
    assert len(lines) == 2
    assert "-e);" in by_customer["C1"]
    assert ";failed;1200,00;0,00;0,00;FA1;" in by_customer["C1"]
    assert (
        "e-mail échouée (rcpt 550 5.1.1 <<email>>: Recipient address rejected)"
        in (by_customer["C1"])
    )
    assert "etoile.example" not in by_customer["C1"]
    assert "e-mail envoyée ; fact. FA2" in by_customer["C2"]


CLOSE_FAILS = PLUGIN.replace('name = "acme-notes"', 'name = "acme-flaky"').replace(
    "    def close(self):\n        pass",
    "    def close(self):\n        raise ConnectionResetError('crm hung up')",
)


def test_a_writer_failing_unexpectedly_after_a_send_leaves_the_send_recorded_ok(
    installed_writer: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A plug-in raising where no note is at stake (its close) neither keeps the
    reminders from going out nor fails the send's run: one writeback_failed."""
    (installed_writer / "acme_flaky.py").write_text(CLOSE_FAILS, encoding="utf-8")
    (installed_writer / "acme_notes-0.1.dist-info" / "entry_points.txt").write_text(
        "[sageconnect.note_writers]\nacme-flaky = acme_flaky:make\n",
        encoding="utf-8",
    )
    importlib.invalidate_caches()
    out = tmp_path / "crm.jsonl"
    config = fec_company(
        tmp_path, f'writer = "acme-flaky"\noptions = {{ path = "{out}" }}'
    )
    clock = FixedClock(NOW)
    capsys.readouterr()
    assert main(["run", "--once", "-c", str(config)], clock) == 70
    logged = [json.loads(x) for x in capsys.readouterr().err.splitlines()]
    (failed,) = [e for e in logged if e["event"] == "writeback_failed"]
    assert failed["error_class"] == "ConnectionResetError"
    assert not [e for e in logged if e["event"] == "job_failed"]
    (send,) = [e for e in logged if e["event"] == "job_finished" and e["job"] == "send"]
    assert send["outcome"] == "ok"
    assert send["sent"] == 2
    assert len(out.read_text("utf-8").splitlines()) == 2


def test_a_plugin_writer_without_its_length_and_encoding_fails_the_check(
    installed_writer: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """length and encoding are part of a NoteWriter (the text is fitted to
    them): a writer without them is exit 78 at check, not a crash at its
    first note."""
    (installed_writer / "acme_notes.py").write_text(
        PLUGIN.replace("    length = 255\n", ""), encoding="utf-8"
    )
    config = fec_company(
        tmp_path, f'writer = "acme-notes"\noptions = {{ path = "{tmp_path / "x"}" }}'
    )
    assert main(["check", "-c", str(config)]) == 78
    err = capsys.readouterr().err
    assert "companies.acme.writeback.writer" in err
    assert "length" in err
