"""The service files an integrator installs: the systemd unit and the WinSW XML."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import defusedxml.ElementTree as ET  # noqa: N817 - the usual name
import pytest

from sageconnect.cli import main
from support import write_config

CREDENTIALS = """
[dunning]
default_scenario = "std"

[dunning.scenarios.std]
steps = [{ id = "first", days = 5, channels = ["email"], template = "first_reminder" }]

[dunning.channels.email]
kind = "smtp"
host = "smtp.example.lan"
from_address = "relances@acme.example"
password = { credential = "smtp_password" }

[dunning.channels.letter]
kind = "folder"
path = "outbox"
"""


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "fec").mkdir()
    (tmp_path / "credentials").mkdir()
    (tmp_path / "credentials" / "smtp_password").write_text("s3cret")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path / "credentials"))
    return write_config(tmp_path, "sqlite:///state/store.db", "fec", CREDENTIALS)


def _render(config: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    assert main(["service", "install", "--print", "-c", str(config), *extra]) == 0
    return capsys.readouterr().out


def test_the_unit_waits_for_readiness_and_never_loops_on_a_config_error(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Type=notify, restart on failure but not after exit 78, a stop budget above
    the daemon's, sandboxing, the state directory, the config's credential, and
    write access to exactly the folders the config writes."""
    unit = _render(config, capsys)
    lines = set(unit.splitlines())
    folder = config.parent
    assert {
        "Type=notify",
        "Restart=on-failure",
        "RestartPreventExitStatus=78",
        "TimeoutStopSec=30",
        "User=sageconnect",
        "StateDirectory=sageconnect",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "EnvironmentFile=-/etc/sageconnect/sageconnect.env",
        "LoadCredential=smtp_password:/etc/sageconnect/credentials/smtp_password",
        f"ExecStart={sys.executable} -m sageconnect run -c {config}",
        f"ReadWritePaths=-{folder / 'outbox'} -{folder / 'state'}",
    } <= lines
    assert "s3cret" not in unit


@pytest.mark.skipif(
    shutil.which("systemd-analyze") is None,
    reason="systemd-analyze not installed (Debian package systemd)",
)
def test_systemd_analyze_verify_accepts_the_unit(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """systemd's own checker finds nothing to say: no unknown key, bad value or
    missing executable (it warns on stderr and fails on the latter)."""
    unit = tmp_path / "sageconnect.service"
    unit.write_text(_render(config, capsys, "--user", "dynamic"), encoding="utf-8")
    done = subprocess.run(
        ["systemd-analyze", "verify", str(unit)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "DynamicUser=yes" in unit.read_text(encoding="utf-8")


def test_install_writes_the_unit_and_uninstall_removes_it(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With --no-enable (no systemd to talk to here) install writes the unit under
    its name, readable by all, and uninstall removes it."""
    units = tmp_path / "units"
    units.mkdir()
    base = [
        "-c",
        str(config),
        "--unit-dir",
        str(units),
        "--no-enable",
        "--name",
        "sc-acme",
    ]
    assert main(["service", "install", *base]) == 0
    unit = units / "sc-acme.service"
    assert unit.stat().st_mode & 0o777 == 0o644
    assert "StateDirectory=sc-acme" in unit.read_text(encoding="utf-8")
    assert f"{unit} written" in capsys.readouterr().out
    assert main(["service", "uninstall", *base]) == 0
    assert not unit.exists()


def test_the_winsw_xml_stops_gently_restarts_and_rolls_its_logs(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The Windows service: python -m sageconnect run on this config, Ctrl+C then
    15 s to stop, restarts after failures then gives up, logs rolled at 10 MB,
    LocalService by default, and a named account asks its password at install."""
    root = ET.fromstring(_render(config, capsys, "--windows"))
    assert root.findtext("executable") == sys.executable
    assert root.findtext("arguments") == f'-m sageconnect run -c "{config}"'
    assert root.findtext("stoptimeout") == "15 sec"
    actions = [e.get("action") for e in root.findall("onfailure")]
    assert actions == ["restart", "restart", "none"]
    log = root.find("log")
    assert log is not None
    assert log.get("mode") == "roll-by-size"
    assert log.findtext("sizeThreshold") == "10240"
    assert root.findtext("serviceaccount/username") == r"NT AUTHORITY\LocalService"
    assert root.find("serviceaccount/prompt") is None
    named = ET.fromstring(_render(config, capsys, "--windows", "--user", r"ACME\svc"))
    assert named.findtext("serviceaccount/username") == r"ACME\svc"
    assert named.findtext("serviceaccount/prompt") == "console"
    assert named.find("serviceaccount/password") is None


def test_install_without_the_wrapper_says_where_to_put_it(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A missing WinSW executable is a clear message and exit 69, nothing written."""
    wrapper = tmp_path / "sageconnect-service.exe"
    assert (
        main(
            [
                "service",
                "install",
                "--windows",
                "--winsw",
                str(wrapper),
                "-c",
                str(config),
            ]
        )
        == 69
    )
    assert "no WinSW executable" in capsys.readouterr().err
    assert not wrapper.with_suffix(".xml").exists()


def test_the_unit_lets_the_daemon_write_its_note_files_and_html_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """ProtectSystem=strict makes every other folder read-only: the file
    writer's folder and the HTML report's are among the ReadWritePaths."""
    (tmp_path / "fec").mkdir()
    config = write_config(
        tmp_path,
        "sqlite:///state/store.db",
        "fec",
        '[companies.acme.writeback]\nwriter = "file"\nfolder = "sage-import"\n'
        '[reports]\nhtml = "web/report-{company}.html"\n',
    )
    lines = _render(config, capsys).splitlines()
    (writable,) = [x for x in lines if x.startswith("ReadWritePaths=")]
    paths = writable.removeprefix("ReadWritePaths=").split()
    assert f"-{tmp_path / 'sage-import'}" in paths
    assert f"-{tmp_path / 'web'}" in paths


def test_a_config_folder_with_a_space_gives_a_unit_systemd_accepts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """WorkingDirectory= takes a bare path (systemd does not unquote it): a
    folder such as "/srv/ACME SAS" is written as it is."""
    folder = tmp_path / "ACME SAS"
    (folder / "fec").mkdir(parents=True)
    config = write_config(folder, "sqlite:///state/store.db", "fec")
    unit = _render(config, capsys, "--user", "dynamic")
    assert f"WorkingDirectory={folder}" in unit.splitlines()
    if shutil.which("systemd-analyze") is None:
        return
    path = tmp_path / "sageconnect.service"
    path.write_text(unit, encoding="utf-8")
    done = subprocess.run(
        ["systemd-analyze", "verify", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
