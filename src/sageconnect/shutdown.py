"""A stop request, process-wide, that long steps check between their units.

The daemon's signal handler calls :func:`request`; a sync checks between
batches (and rolls its transaction back), a send cycle between messages (the
message in flight is finished and recorded first). Outside the daemon nothing
requests a stop, so :func:`check` costs one flag read.

The flag is a plain attribute, not a ``threading.Event``: a signal handler
sets it, and a handler that takes a lock the interrupted thread holds waits
for ever.
"""

from __future__ import annotations

from sageconnect.errors import Stopped


class _Flag:
    on = False


_STOP = _Flag()


def request() -> None:
    """Ask every running step to stop at its next safe point (signal-safe)."""
    _STOP.on = True


def requested() -> bool:
    return _STOP.on


def check() -> None:
    """Raise :class:`Stopped` if a stop was requested."""
    if _STOP.on:
        raise Stopped
