"""Pause Python's cyclic garbage collector over work that builds millions of objects.

Reading a million open items, planning them and recording the plan make
millions of tuples, records and strings and no reference cycle. While they
pile up, each collection the allocations trigger walks every container object
of the process, and the oldest generation's walks grow with the heap: on a
million-item store (bench/plan_store.py) they were a fifth of the snapshot's
and of the recording's time. Reference counting still frees everything as
usual; only the search for cycles waits until the work is done.

The collector is process-wide: a pause nested in another (or overlapping one in
another thread) leaves it as the outermost found it, never enabled early by an
inner one. Work under a pause must not make cycles in bulk.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """No cyclic collection inside the block; the collector as it was after it.

    What the block made and kept is frozen as it ends (``gc.freeze``): else the
    first collections after it walk every object it made (2.5 s after a
    million-item plan). Reference counting frees those objects as usual. The
    next pause begins by giving back and collecting what is left of them, so a
    reference cycle made in one pause is collected when the next one begins.
    For whole-company work: that collection walks the process's objects once.
    """
    collecting = gc.isenabled()
    if collecting and gc.get_freeze_count():
        gc.unfreeze()
        gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.freeze()
            gc.enable()
