"""What a mapper plug-in author imports: the contract and the canonical records.

A code mapper is a package that declares, in its pyproject.toml::

    [project.entry-points."sageconnect.mappers"]
    acme-erp = "sageconnect_acme:make_mapper"

where ``make_mapper(context: PluginContext) -> Mapper``. A company then names it
with ``mapping = "acme-erp"`` in its source table. ``sageconnect.testing`` holds
the contract suite every mapper passes.

A note writer (the write-back of reminders into the accounting system) is
declared the same way under ``sageconnect.note_writers``: ``make_writer(context:
WriterContext) -> NoteWriter``, named by ``writer = "<name>"`` in the company's
``writeback`` table; ``sageconnect.testing.assert_note_writer`` is its contract.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sageconnect.mapping.documents import DocumentMaker, LedgerSettings
from sageconnect.mapping.ledger_line import LedgerLine
from sageconnect.mapping.protocol import Mapper, NoteWriter, Reading
from sageconnect.model.notes import Note, NotedInvoice
from sageconnect.model.records import (
    Customer,
    DocKind,
    DueSource,
    Invoice,
    Payment,
    PaymentKind,
    Record,
    Reject,
)

__all__ = [
    "Customer",
    "DocKind",
    "DocumentMaker",
    "DueSource",
    "Invoice",
    "LedgerLine",
    "LedgerSettings",
    "Mapper",
    "Note",
    "NoteWriter",
    "NotedInvoice",
    "Payment",
    "PaymentKind",
    "PluginContext",
    "Reading",
    "Record",
    "Reject",
    "WriterContext",
]


@dataclass(frozen=True, slots=True)
class PluginContext:
    """Everything a plug-in factory gets from the company's configuration."""

    company: str
    source: Any  # the company's validated [source] table (FileSource or OdbcSource)
    settings: LedgerSettings  # currency and payment terms
    now: Callable[[], dt.datetime]  # the injected clock
    base_dir: Path  # the config file's folder, for relative paths


@dataclass(frozen=True, slots=True)
class WriterContext:
    """Everything a note-writer factory gets from the company's configuration."""

    company: str
    options: dict[str, str]  # the writeback table's options, as written
    now: Callable[[], dt.datetime]  # the injected clock
    base_dir: Path  # the config file's folder, for relative paths
