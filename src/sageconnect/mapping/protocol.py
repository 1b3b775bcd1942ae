"""The contract every mapper meets."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from sageconnect.model.records import Record


class Reading(Protocol):
    """One read of a source, started by Mapper.read."""

    complete: bool
    """True for a full snapshot: what it does not yield is gone from the source."""

    def records(self) -> Iterator[Record]:
        """Customers, invoices, payments in source order, and a Reject per bad row."""
        ...

    def checkpoint(self) -> str:
        """Where the next read starts; valid once records() is exhausted."""
        ...


class Mapper(Protocol):
    """Reads one accounting source into canonical records.

    A bad row never raises: it is yielded as a Reject. A source that cannot be
    read at all raises SourceUnavailable, and the store is left as it was.
    """

    name: str

    def read(self, checkpoint: str | None, *, full: bool) -> Reading | None:
        """Start a read after ``checkpoint``; None when nothing changed since."""
        ...
