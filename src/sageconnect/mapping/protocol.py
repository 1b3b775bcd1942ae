"""The contracts every mapper, and every note writer, meets."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from sageconnect.model.notes import Note
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


class NoteWriter(Protocol):
    """Writes notes into an accounting system (the optional write-back).

    The write-back job makes each note happen once: it asks ``exists`` before
    ``write`` (an earlier attempt may have written it, then stopped before
    recording it), and hands over text that already fits ``length`` bytes of
    ``encoding`` (None: no limit) and starts with the note's marker. A target
    that cannot be written raises WriteBackError; the note stays queued.
    """

    name: str
    length: int | None
    encoding: str

    def exists(self, note: Note) -> bool:
        """True when a note with ``note.marker`` is already in the target."""
        ...

    def write(self, note: Note) -> None:
        """Write the note once (the caller has checked it is not there)."""
        ...

    def close(self) -> None:
        """Release connections or files; the writer may be used again after."""
        ...
