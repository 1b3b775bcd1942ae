"""A note: one reminder event written back into the accounting system, once."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

NoteKind = Literal["note", "entries"]


@dataclass(frozen=True, slots=True, kw_only=True)
class NotedInvoice:
    """An invoice a reminder carried: its key in the source (``EC_No`` for Sage
    100) and the number the customer knows it by."""

    key: str
    number: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Note:
    """What a NoteWriter writes.

    ``kind`` is ``note`` (one line of history on the customer) or ``entries``
    (the step and date set on each invoice's entry). ``text`` already fits the
    target (its length and encoding) and starts with ``marker``, the tag derived
    from the reminder's key that read-before-write looks for.
    """

    key: str  # the reminder's key
    marker: str
    kind: NoteKind
    company: str
    customer: str
    on: dt.date  # the day the reminder left
    text: str
    step: str
    level: int  # the step's rank in its scenario, from 1
    channel: str
    outcome: str  # sent
    total: Decimal  # what the reminder claimed: open + interest + indemnity
    interest: Decimal
    indemnity: Decimal
    invoices: tuple[NotedInvoice, ...]
