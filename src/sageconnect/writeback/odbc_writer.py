"""The declarative note writer: the mapping's [notes] SQL, through ODBC.

One connection for a batch of notes, opened at the first note and closed by
``close``; each statement commits on its own (autocommit), so a note is either
in Sage or not, and ``find`` tells which before anything is written again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sageconnect.errors import SourceUnavailable, WriteBackError
from sageconnect.mapping.notes import NotesSpec
from sageconnect.model.notes import Note, NotedInvoice
from sageconnect.readers.odbc import OdbcSettings, OdbcSource


class OdbcNoteWriter:
    """Runs ``find`` then ``write`` (notes), or ``entries.write`` (entries)."""

    name = "odbc"

    def __init__(self, spec: NotesSpec, settings: OdbcSettings) -> None:
        self.spec = spec
        self.settings = settings
        self.length = spec.length
        self.encoding = spec.encoding
        self._source: OdbcSource | None = None

    def exists(self, note: Note) -> bool:
        if note.kind == "entries":
            return False  # setting the same step and date again changes nothing
        params = bind(self.spec.find_params, note)
        for _names, row in self._run(lambda s: s.rows(self.spec.find, params)):
            return bool(row[0])
        return False

    def write(self, note: Note) -> None:
        if note.kind == "entries":
            entries = self.spec.entries
            if entries is None:
                raise WriteBackError(self.name, "the mapping has no [notes.entries]")
            for invoice in note.invoices:
                params = bind(entries.params, note, invoice)
                self._run(lambda s, p=params: s.execute(entries.write, p))
            return
        params = bind(self.spec.write_params, note)
        touched = self._run(lambda s: s.execute(self.spec.write, params))
        if touched == 0:
            raise WriteBackError(
                self.name,
                f"the note's statement changed no row (customer {note.customer}"
                " missing from the target?)",
                transient=False,
            )

    def close(self) -> None:
        if self._source is not None:
            self._source.__exit__(None, None, None)
            self._source = None

    def _run(self, action: Any) -> Any:
        """Run ``action(source)``, a driver error becoming a WriteBackError; a
        broken connection is dropped so the next note opens a fresh one."""
        try:
            if self._source is None:
                self._source = OdbcSource(self.settings).__enter__()
            result = action(self._source)
            return list(result) if not isinstance(result, int) else result
        except SourceUnavailable as exc:
            self.close()
            raise WriteBackError(
                self.name, exc.reason, transient=exc.transient
            ) from None


def bind(
    names: Sequence[str], note: Note, invoice: NotedInvoice | None = None
) -> list[Any]:
    """The values of the named parameters, in order."""
    values: dict[str, Any] = {
        "company": note.company,
        "customer": note.customer,
        "key": note.key,
        "marker": note.marker,
        "marker_like": f"%{note.marker}%",
        "text": note.text,
        "date": note.on,
        "step": note.step,
        "level": note.level,
        "channel": note.channel,
        "outcome": note.outcome,
        "total": note.total,
        "interest": note.interest,
        "indemnity": note.indemnity,
    }
    if invoice is not None:
        values["entry"] = invoice.key
        values["entry_number"] = int(invoice.key) if invoice.key.isdigit() else None
        values["invoice"] = invoice.number
    return [values[name] for name in names]
