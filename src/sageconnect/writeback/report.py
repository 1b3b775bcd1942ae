"""What one write-back run did: the fields of writeback_finished."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(slots=True)
class WritebackReport:
    company: str
    status: str = "done"  # done | disabled | not_synced | failing
    writer: str = ""
    queued: int = 0  # notes added to the queue this run
    written: int = 0
    found: int = 0  # already in the target (an earlier attempt wrote it)
    failed: int = 0  # attempts that failed this run (the notes stay queued)
    released: int = 0  # claims of a stopped process, taken back
    pending: int = 0  # notes still to write after this run
    next_try: dt.datetime | None = None
    last_error: str = ""
