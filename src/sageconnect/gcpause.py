"""Pause Python's cyclic garbage collector over work that builds millions of objects.

Reading a million open items, planning them and recording the plan make
millions of tuples, records and strings and no reference cycle. While they
pile up, each collection the allocations trigger walks every container object
of the process, and the oldest generation's walks grow with the heap: on a
million-item store (bench/plan_store.py) they were a fifth of the planning's
time. Reference counting still frees everything as usual; only the search for
cycles waits until the work is done, and runs as usual after it.

The collector is process-wide: pauses nested or overlapping (in other threads)
count as one, from the first that begins to the last that ends; a collector
disabled before the first stays disabled. Work under a pause must not make
reference cycles in bulk: those of every thread wait for the end of the pause.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0  # pauses begun and not ended, in every thread
_restore = False  # whether the collector was on when the first of them began


@contextmanager
def paused() -> Iterator[None]:
    """No cyclic collection inside the block (nor, in other threads, meanwhile)."""
    global _depth, _restore  # noqa: PLW0603 - one collector per process
    with _lock:
        if _depth == 0:
            _restore = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _restore:
                gc.enable()
