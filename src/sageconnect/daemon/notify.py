"""systemd's readiness protocol: one datagram to $NOTIFY_SOCKET (sd_notify(3)).

A no-op outside systemd (and on Windows). ``READY=1`` is sent once the config
is valid, the store migrated and the lock held, so ``systemctl start`` fails
visibly on a bad install; ``STOPPING=1`` when a stop begins; ``WATCHDOG=1``
from the main loop when the unit sets ``WatchdogSec=``.
"""

from __future__ import annotations

import os
import socket


def notify(message: str) -> bool:
    """Send ``message`` (e.g. "READY=1") to systemd; False if not under systemd."""
    address = os.environ.get("NOTIFY_SOCKET")
    family = getattr(socket, "AF_UNIX", None)
    if not address or family is None:
        return False
    if address.startswith("@"):  # an abstract socket
        address = "\0" + address[1:]
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            sock.connect(address)
            sock.sendall(message.encode())
    except OSError:
        return False
    return True


def watchdog_enabled() -> bool:
    """Whether systemd expects WATCHDOG=1 pings (WatchdogSec= in the unit)."""
    return bool(os.environ.get("WATCHDOG_USEC"))
