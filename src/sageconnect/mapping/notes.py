"""The optional [notes] section of a mapping: where an ODBC source takes notes.

Declarative, like the rest of a mapping: SQL the integrator chose, with ``?``
placeholders bound in order to values named from a closed list. ``find`` reads
before ``write`` writes: it returns a row whose first column is non-zero (a
COUNT) when a note with this marker is already there.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sageconnect.fields import Codec

NoteParam = Literal[
    "company",
    "customer",
    "key",
    "marker",
    "marker_like",  # %<marker>%, for LIKE
    "text",
    "date",
    "step",
    "level",
    "channel",
    "outcome",
    "total",
    "interest",
    "indemnity",
]
EntryParam = NoteParam | Literal["entry", "entry_number", "invoice"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _statement(sql: str, verbs: tuple[str, ...], params: tuple[str, ...]) -> None:
    words = sql.split(None, 1)
    if not words or words[0].upper() not in verbs:
        raise ValueError(f"a statement starting with {' or '.join(verbs)}")
    if ";" in sql.rstrip().rstrip(";"):
        raise ValueError("one statement, without ;")
    marks = len(re.findall(r"\?", sql))
    if marks != len(params):
        raise ValueError(f"{marks} ? placeholder(s) for {len(params)} parameter(s)")


class EntriesNotes(_Section):
    """Set the reminder's step and date on each invoice's entry (an UPDATE per
    invoice, e.g. Sage's EC_Rappel and EC_DateRelance)."""

    write: str = Field(min_length=10)
    params: tuple[EntryParam, ...]

    @model_validator(mode="after")
    def _shape(self) -> EntriesNotes:
        _statement(self.write, ("UPDATE",), self.params)
        if "entry" not in self.params and "entry_number" not in self.params:
            raise ValueError("params name the entry (entry or entry_number)")
        return self


class NotesSpec(_Section):
    """Where one line of history per reminder goes, read before written."""

    find: str = Field(min_length=10)
    find_params: tuple[NoteParam, ...]
    write: str = Field(min_length=10)
    write_params: tuple[NoteParam, ...]
    length: int | None = Field(default=None, ge=20, le=4000)  # the column's size
    encoding: Codec = "cp1252"  # the column's code page: the text is made to fit it
    entries: EntriesNotes | None = None

    @model_validator(mode="after")
    def _shape(self) -> NotesSpec:
        _statement(self.find, ("SELECT",), self.find_params)
        _statement(self.write, ("INSERT", "UPDATE"), self.write_params)
        if "marker" not in self.find_params and "marker_like" not in self.find_params:
            raise ValueError("find_params name the marker (marker or marker_like)")
        if "text" not in self.write_params:
            raise ValueError("write_params name the text")
        return self
