"""The contract every mapper meets."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from sageconnect.model.records import Record


class Mapper(Protocol):
    """Reads one accounting source into canonical records.

    ``read`` yields customers, invoices, payments in source order and a Reject
    for every row it cannot map; a bad row never raises. A source that cannot be
    read at all raises SourceUnavailable before the store is touched.
    """

    name: str

    def fingerprint(self) -> str:
        """A cheap identity of the input: the same value means nothing to read."""
        ...

    def read(self) -> Iterator[Record]:
        """Every record of the source (a full snapshot)."""
        ...
