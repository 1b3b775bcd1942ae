"""``sageconnect service install|uninstall|status``: the daemon as a service.

On Linux a systemd unit (``--print`` shows it without installing); on Windows
a WinSW service (``--windows --print`` shows its XML from any system).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from sageconnect.clock import Clock
from sageconnect.config import Config

if TYPE_CHECKING:
    from sageconnect.service.spec import ServiceSpec

EX_OK, EX_UNAVAILABLE = 0, 69
Command = Callable[[argparse.Namespace, Config, Clock], int]
Factory = Callable[[str, str, Command], argparse.ArgumentParser]


def register(command: Factory) -> None:
    """Add ``service`` to the parser, through the CLI's own factory."""
    p = command(
        "service",
        "install, uninstall or show the daemon as a system service"
        " (systemd on Linux, WinSW on Windows)",
        _service,
    )
    p.add_argument("action", choices=["install", "uninstall", "status"])
    p.add_argument("--name", default="sageconnect", help="the service's name")
    p.add_argument(
        "--user",
        default=None,
        help="the account it runs as (Linux default: sageconnect; Windows default:"
        r" NT AUTHORITY\LocalService); Linux: 'dynamic' for a DynamicUser",
    )
    p.add_argument("--print", action="store_true", help="show the unit / XML only")
    p.add_argument(
        "--windows", action="store_true", help="the WinSW XML (default on Windows)"
    )
    p.add_argument("--unit-dir", type=Path, default=None, help="where units go")
    p.add_argument(
        "--no-enable",
        action="store_true",
        help="write the unit only: no systemctl daemon-reload / enable --now",
    )
    p.add_argument(
        "--winsw",
        type=Path,
        default=None,
        help="the WinSW executable (default: sageconnect-service.exe beside python)",
    )


def _service(args: argparse.Namespace, config: Config, clock: Clock) -> int:
    from sageconnect.service import systemd, winsw  # noqa: PLC0415
    from sageconnect.service.spec import spec_for  # noqa: PLC0415

    del clock
    windows = args.windows or sys.platform == "win32"
    user = args.user
    if not windows and user is None:
        user = "sageconnect"
    spec = spec_for(
        config,
        Path(args.config),
        name=args.name,
        user=None if user == "dynamic" else user,
    )
    if args.print:
        sys.stdout.write(winsw.render(spec) if windows else systemd.render(spec))
        return EX_OK
    try:
        if windows:
            wrapper = args.winsw or spec.python.parent / "sageconnect-service.exe"
            message = _windows(args.action, spec, wrapper)
        else:
            message = _linux(args, spec)
    except OSError as exc:
        print(f"service {args.action}: {exc}", file=sys.stderr)
        return EX_UNAVAILABLE
    print(message.rstrip())
    return EX_OK


def _linux(args: argparse.Namespace, spec: ServiceSpec) -> str:
    from sageconnect.service import systemd  # noqa: PLC0415

    enable = not args.no_enable
    unit_dir = args.unit_dir or systemd.UNIT_DIR
    if args.action == "install":
        path = systemd.install(spec, unit_dir, enable=enable)
        started = " and started" if enable else " (not enabled: --no-enable)"
        return f"{path} written{started}; logs: journalctl -u {spec.name} -o cat"
    if args.action == "uninstall":
        path = systemd.uninstall(spec, unit_dir, enable=enable)
        return f"{path} removed"
    return systemd.status(spec)


def _windows(action: str, spec: ServiceSpec, wrapper: Path) -> str:
    from sageconnect.service import winsw  # noqa: PLC0415

    if action == "install":
        path = winsw.install(spec, wrapper)
        return f"{path} written, service {spec.name} installed and started"
    if action == "uninstall":
        return f"service {spec.name} removed ({winsw.uninstall(wrapper)} kept)"
    return winsw.status(wrapper)
