"""The Windows service: a WinSW configuration wrapping ``python -m sageconnect run``.

WinSW (MIT, maintained) sends Ctrl+C on stop and waits ``stoptimeout``; the
daemon stops within 10 s. It restarts the process after a failure (but a
config error, exit 78, fails the same way again: the third failure leaves the
service stopped), and captures standard output (the JSON log lines) into
``sageconnect-service.out.log``, rolled by size. The service runs as
LocalService unless an account is named; its password is asked at install.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from xml.sax.saxutils import escape

from sageconnect.service.spec import ServiceSpec

LOCAL_SERVICE = r"NT AUTHORITY\LocalService"


def render(spec: ServiceSpec) -> str:
    """The WinSW XML (WinSW 2.x and 3.x)."""
    arguments = f'-m sageconnect run -c "{spec.config}"'
    name = spec.config.name
    user = spec.user or LOCAL_SERVICE
    builtin = user.upper().startswith("NT AUTHORITY\\") or user == "LocalSystem"
    account = f"    <username>{escape(user)}</username>\n"
    if not builtin:
        account += (
            "    <prompt>console</prompt>\n"
            "    <allowservicelogon>true</allowservicelogon>\n"
        )
    return f"""\
<!-- Written by `sageconnect service install`: README, "Windows service". -->
<service>
  <id>{escape(spec.name)}</id>
  <name>{escape(spec.name)}</name>
  <description>sageconnect receivables connector ({escape(name)})</description>
  <executable>{escape(str(spec.python))}</executable>
  <arguments>{escape(arguments)}</arguments>
  <workingdirectory>{escape(str(spec.config.parent))}</workingdirectory>
  <startmode>Automatic</startmode>
  <delayedAutoStart>true</delayedAutoStart>
  <stoptimeout>15 sec</stoptimeout>
  <onfailure action="restart" delay="10 sec"/>
  <onfailure action="restart" delay="60 sec"/>
  <onfailure action="none"/>
  <resetfailure>1 hour</resetfailure>
  <env name="PYTHONUNBUFFERED" value="1"/>
  <env name="PYTHONIOENCODING" value="utf-8"/>
  <logpath>{escape(spec.log_dir)}</logpath>
  <log mode="roll-by-size">
    <sizeThreshold>10240</sizeThreshold>
    <keepFiles>10</keepFiles>
  </log>
  <serviceaccount>
{account}  </serviceaccount>
</service>
"""


def xml_path(wrapper: Path) -> Path:
    """WinSW reads the XML named like its executable, beside it."""
    return wrapper.with_suffix(".xml")


def install(spec: ServiceSpec, wrapper: Path) -> Path:
    _need(wrapper)
    path = xml_path(wrapper)
    path.write_text(render(spec), encoding="utf-8")
    _winsw(wrapper, "install")
    _winsw(wrapper, "start")
    return path


def uninstall(wrapper: Path) -> Path:
    _winsw(wrapper, "stop", check=False)
    _winsw(wrapper, "uninstall")
    return xml_path(wrapper)


def status(wrapper: Path) -> str:
    return _winsw(wrapper, "status")


def _need(wrapper: Path) -> None:
    if not wrapper.is_file():
        raise OSError(
            f"{wrapper}: no WinSW executable (download WinSW-x64.exe from "
            "github.com/winsw/winsw/releases and save it under this name)"
        )


def _winsw(wrapper: Path, command: str, *, check: bool = True) -> str:
    _need(wrapper)
    done = subprocess.run(  # noqa: S603 - the wrapper the integrator installed
        [str(wrapper), command], capture_output=True, text=True, check=False
    )
    if check and done.returncode != 0:
        raise OSError(f"{wrapper.name} {command}: {done.stdout}{done.stderr}".strip())
    return done.stdout
