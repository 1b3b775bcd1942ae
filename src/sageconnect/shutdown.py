"""A stop request, process-wide, that long steps check between their units.

The daemon's signal handler calls :func:`request`; a sync checks between
batches (and rolls its transaction back), a send cycle between messages (the
message in flight is finished and recorded first). Outside the daemon nothing
requests a stop, so :func:`check` costs one flag read.
"""

from __future__ import annotations

import threading

from sageconnect.errors import Stopped

_STOP = threading.Event()


def request() -> None:
    """Ask every running step to stop at its next safe point."""
    _STOP.set()


def requested() -> bool:
    return _STOP.is_set()


def check() -> None:
    """Raise :class:`Stopped` if a stop was requested."""
    if _STOP.is_set():
        raise Stopped
