"""No secret and no personal data in any output, whatever fails.

Every secret is a canary string given through the environment; everything
that can fail does: a refused SMTP login, an HTTP provider answering 500 to the
letter and alert webhooks, an ODBC source refusing the connection, a store
that cannot be reached. Standard output and error of every command (and of
the daemon) are searched for the canary and for the contacts' e-mails and
phones; every file written is searched for the canary.
"""

from __future__ import annotations

import csv
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from aiosmtpd.smtp import AuthResult

from processes import Daemon
from servers import Provider, StartSmtp, free_port
from support import ROOT

CANARY = "Canary-7f3a9c-S3cret"


def _refuse(*_args: object) -> AuthResult:
    return AuthResult(success=False, handled=False)


def _config(tmp_path: Path, smtp_port: int, provider: Provider) -> Path:
    """The demo config, its channels and alert target pointed at failing
    servers with canary secrets, plus a Sage company whose ODBC login fails."""
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    text = text.split("\n[daemon]")[0]  # replaced by a fast one below
    for name in ("fixtures/", "mappings"):
        text = text.replace(f'"{name}', f'"{ROOT}/{name}')
    text = text.replace(
        '[dunning.channels.email]\nkind = "folder"\npath = "var/outbox"',
        f'[dunning.channels.email]\nkind = "smtp"\nhost = "127.0.0.1"\nport = {smtp_port}'
        '\nsecurity = "none"\nuser = "relances"\npassword = { env = "SC_SMTP" }',
    )
    text = text.replace(
        '[dunning.channels.letter]\nkind = "folder"\npath = "var/outbox"',
        f'[dunning.channels.letter]\nkind = "webhook"\nurl = "{provider.url}/letters"'
        '\ntoken = { env = "SC_LETTER" }',
    )
    text = text.replace(
        'kind = "folder"                  # or smtp (to = [...]) or webhook (url, token)\npath = "var/alerts"',
        f'kind = "webhook"\nurl = "{provider.url}/alerts"\ntoken = {{ env = "SC_HOOK" }}',
    )
    text = text.replace(
        '[logging]\nlevel = "info"',
        '[logging]\nlevel = "debug"',
    )
    text += f"""
[companies.sage]
name = "Sage SAS"

[companies.sage.source]
mapping = "sage100"
connection_string = "Driver={{PostgreSQL Unicode}};Server=127.0.0.1;Port={free_port()};Database=sage"
user = "sageconnect"
password = {{ env = "SC_ODBC" }}
login_timeout = 2

[daemon]
heartbeat_seconds = 1
holidays = "none"  # the real clock: a public holiday would stop the send

[daemon.jobs]
sync = {{ every = "2s" }}
send = {{ every = "2s" }}
alerts = {{ every = "2s" }}
"""
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _personal() -> list[str]:
    """The e-mails and phones of the demo's contacts file."""
    with (ROOT / "fixtures" / "fec" / "contacts.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter=";"))
    found = [r["email"] for r in rows if r["email"]] + [
        r["phone"] for r in rows if r["phone"]
    ]
    assert len(found) > 40
    return found


def _leaks(text: str, personal: list[str]) -> list[str]:
    digits = re.sub(r"\D", "", text)
    hits = [CANARY] if CANARY in text else []
    hits += [p for p in personal if "@" in p and p in text]
    hits += [p for p in personal if "@" not in p and re.sub(r"\D", "", p) in digits]
    return hits


def test_no_canary_and_no_contact_detail_in_any_output(
    tmp_path: Path, smtp_server: StartSmtp, provider: Provider
) -> None:
    """Failures everywhere, every command and the daemon: nothing leaks."""
    port, box = smtp_server(auth_require_tls=False, authenticator=_refuse)
    provider.replies = [(500, {"error": "boom"})] * 200
    config = _config(tmp_path, port, provider)
    env = {
        **os.environ,
        "SC_SMTP": CANARY,
        "SC_LETTER": CANARY,
        "SC_HOOK": CANARY,
        "SC_ODBC": CANARY,
    }
    outputs: list[tuple[str, str]] = []

    def cli(*args: str, cfg: Path = config) -> int:
        done = subprocess.run(
            [sys.executable, "-m", "sageconnect", *args, "-c", str(cfg)],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
        outputs.append((" ".join(args), done.stdout + done.stderr))
        return done.returncode

    assert cli("run", "--once") == 69, outputs[-1]  # the ODBC company fails
    for args in (
        ("check",),
        ("doctor",),
        ("sync",),
        ("send",),
        ("alerts", "check"),
        ("status",),
        ("reminders", "list"),
        ("report", "rejects"),
    ):
        cli(*args)
    with_store = tmp_path / "store.toml"
    with_store.write_text(
        config.read_text(encoding="utf-8").replace(
            'url = "sqlite:///var/sageconnect.db"',
            f'url = "postgresql://sageconnect@127.0.0.1:{free_port()}/x"\npassword = {{ env = "SC_SMTP" }}',
        ),
        encoding="utf-8",
    )
    assert cli("run", "--once", cfg=with_store) == 70, outputs[-1]
    daemon = Daemon(config, env=env)
    try:
        daemon.wait_for("job_finished", job="send")
        daemon.wait_for("job_finished", job="alerts")
        daemon.stop(signal.SIGTERM)
        outputs.append(("daemon", "".join(daemon.lines) + daemon.read_stderr()))
    finally:
        daemon.kill()

    everything = "\n".join(out for _, out in outputs)
    assert "sync_failed" in everything  # the failures did happen
    assert "reminder_retry" in everything or "reminder_failed" in everything
    assert "alert_notice" in everything
    assert "store_unavailable" in everything
    assert provider.received  # the webhooks were called, with the token
    assert box.received == []  # the SMTP login was refused
    personal = _personal()
    leaks = {name: _leaks(out, personal) for name, out in outputs}
    assert {name: hits for name, hits in leaks.items() if hits} == {}
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert CANARY.encode() not in path.read_bytes(), path
