"""The systemd unit of the daemon: readiness, restarts, sandbox, secrets.

``Type=notify``: systemd waits for READY=1 (config valid, store migrated, lock
held). ``Restart=on-failure`` but never after exit 78 (a config error: no
restart loop). The sandbox makes the whole system read-only except the state
directory and the folders the config writes; secrets come as credentials
(``LoadCredential=``, never in the environment of child processes) or from an
environment file readable by root only.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from sageconnect.service.spec import ServiceSpec

UNIT_DIR = Path("/etc/systemd/system")

_HARDENING = """\
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=read-only
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
SystemCallArchitectures=native
UMask=0027"""


def render(spec: ServiceSpec) -> str:
    """The unit file's text."""
    command = " ".join(
        _quote(str(a))
        for a in (spec.python, "-m", "sageconnect", "run", "-c", spec.config)
    )
    account = (
        "DynamicUser=yes"
        if spec.user is None
        else f"User={spec.user}\nGroup={spec.user}"
    )
    credentials = "".join(
        f"LoadCredential={name}:{spec.credentials_dir / name}\n"
        for name in spec.credentials
    )
    writable = " ".join(_quote(f"-{p}") for p in spec.writable)
    return f"""\
# Written by `sageconnect service install`; see README "Running as a Linux service".
[Unit]
Description=sageconnect receivables connector ({_bare(spec.config.name)})
After=network-online.target
Wants=network-online.target
StartLimitIntervalSec=600
StartLimitBurst=5

[Service]
Type=notify
NotifyAccess=main
ExecStart={command}
WorkingDirectory={_bare(str(spec.config.parent))}
{account}
Restart=on-failure
RestartSec=10s
RestartPreventExitStatus=78
TimeoutStartSec=300
TimeoutStopSec=30
KillMode=mixed
Environment=PYTHONUNBUFFERED=1
EnvironmentFile=-{spec.env_file}
{credentials}StateDirectory={spec.name}
StateDirectoryMode=0750
{"ReadWritePaths=" + writable if writable else ""}
{_HARDENING}

[Install]
WantedBy=multi-user.target
"""


def unit_path(spec: ServiceSpec, folder: Path = UNIT_DIR) -> Path:
    return folder / f"{spec.name}.service"


def install(spec: ServiceSpec, folder: Path, *, enable: bool) -> Path:
    """Write the unit; reload systemd and enable and start it if asked."""
    path = unit_path(spec, folder)
    path.write_text(render(spec), encoding="utf-8")
    path.chmod(0o644)
    if enable:
        _systemctl("daemon-reload")
        _systemctl("enable", "--now", f"{spec.name}.service")
    return path


def uninstall(spec: ServiceSpec, folder: Path, *, enable: bool) -> Path:
    path = unit_path(spec, folder)
    if enable:
        _systemctl("disable", "--now", f"{spec.name}.service", check=False)
    path.unlink(missing_ok=True)
    if enable:
        _systemctl("daemon-reload")
    return path


def status(spec: ServiceSpec) -> str:
    """What systemd says of the service."""
    wanted = (
        "ActiveState,SubState,MainPID,ExecMainStatus,NRestarts,ActiveEnterTimestamp"
    )
    return _systemctl("show", f"{spec.name}.service", f"--property={wanted}")


def _systemctl(*args: str, check: bool = True) -> str:
    tool = shutil.which("systemctl")
    if tool is None:
        raise OSError("systemctl not found: is this a systemd system?")
    done = subprocess.run(  # noqa: S603 - fixed tool, our own arguments
        [tool, *args], capture_output=True, text=True, check=False, env=os.environ
    )
    if check and done.returncode != 0:
        raise OSError(f"systemctl {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def _bare(text: str) -> str:
    """A value systemd takes as it is (WorkingDirectory=, Description=): never
    unquoted, so no quotes; only its specifiers (``%``) are escaped."""
    return text.replace("%", "%%")


def _quote(text: str) -> str:
    """systemd's quoting: double quotes when needed, backslash and quote escaped."""
    if text and not any(c in text for c in " \t\"\\'$%;"):
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%")
    escaped = escaped.replace("$", "$$")
    return f'"{escaped}"'
