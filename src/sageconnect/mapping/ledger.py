"""The ledger mapper: receivables derived from ledger lines (FEC and alike).

Only lines on receivable accounts become records. The other lines of an entry
say what it is: an entry touching a sales account is an invoice (debit) or a
credit note (credit); one touching a cash account is a payment (credit) or a
refund or bounced payment (debit); anything else is an adjustment.

Several fiscal-year files can be loaded at once. The opening (a-nouveau) lines
of a year repeat what the previous year left open, so when that year is loaded
too they are not counted again: each one is matched to the item it carries
(customer, side, piece, amount) and lends it its current lettering and due date.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterator
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import cast

from sageconnect import __version__
from sageconnect.errors import SourceUnavailable
from sageconnect.mapping.diagnosis import Check
from sageconnect.mapping.documents import DocumentMaker, LedgerSettings, Row, record
from sageconnect.mapping.ledger_entries import EntryParser, Parsed
from sageconnect.mapping.ledger_line import Columns, LineCents
from sageconnect.mapping.openings import Openings, carry, check_years, tag
from sageconnect.mapping.snapshot import fingerprint
from sageconnect.mapping.spec import MappingSpec
from sageconnect.model.money import from_cents
from sageconnect.model.records import (
    Customer,
    Record,
    Reject,
)
from sageconnect.readers.files import FileFormat, sniff


class LedgerMapper:
    """A Mapper over one or more ledger files of one company."""

    def __init__(
        self, spec: MappingSpec, files: list[Path], settings: LedgerSettings
    ) -> None:
        self.name = spec.mapping.name
        self.spec = spec
        self.settings = settings
        self.files = sorted(files, key=_fiscal_order)
        if spec.ledger is None:
            raise ValueError(f"mapping {spec.mapping.name} has no [ledger] section")
        ledger = self.ledger = spec.ledger
        self.receivable = settings.receivable_accounts or ledger.receivable_accounts
        self.sales = ledger.sales_accounts
        self.cash = ledger.cash_accounts
        self.sales_journals = {j.upper() for j in ledger.sales_journals}
        self.opening = {j.upper() for j in ledger.opening_journals}
        self.default_text = settings.default_terms
        self.terms_text = settings.terms_by_customer
        self.documents = DocumentMaker(settings)
        # entries repeat a few journal and account combinations: classified once each
        self._kind = lru_cache(maxsize=4096)(self._kind_of)
        self.opening_unmatched = 0
        self.salt = hashlib.sha256(
            f"{__version__}{settings!r}{spec.model_dump_json()}".encode()
        ).digest()

    def read(self, checkpoint: str | None, *, full: bool) -> LedgerReading | None:
        """A full read of the files, or None when unchanged since the checkpoint."""
        now = fingerprint(self.files, self.spec, self.settings)
        if now == checkpoint and not full:
            return None
        return LedgerReading(self, now)

    def records(self) -> Iterator[Record]:
        for _, records in self.entries():
            yield from cast("list[Record]", records)  # no rows unless asked

    def entries(
        self, known: Callable[[int], bool] | None = None, *, rows: bool = False
    ) -> Iterator[tuple[int | None, list[Record | Row]]]:
        """Records entry by entry with each entry's digest, customers last.

        ``known`` (one file only) says which digests the store holds already:
        those entries are not parsed, and their customers not yielded again.
        With ``rows``, invoices and payments come as staged rows (see Row), the
        cheaper form a sync takes.
        """
        if known is not None and len(self.files) != 1:
            raise ValueError("entries are skipped by digest for one file only")
        customers: dict[str, Customer] = {}
        formats = [self._sniff(path) for path in self.files]
        openings = [
            self._openings(path, fmt)
            for path, fmt in zip(self.files[1:], formats[1:], strict=True)
        ]
        check_years(self.files, openings)
        for i, (path, fmt) in enumerate(zip(self.files, formats, strict=True)):
            yield from self._read_file(
                path,
                fmt,
                customers,
                openings[i:],
                skip_opening=i > 0,
                known=known,
                rows=rows,
            )
        self.opening_unmatched = sum(o.left() for o in openings)
        yield None, list(customers.values())

    def totals(self) -> dict[str, Decimal]:
        """Debit - credit per customer over the newest fiscal year's file alone.

        Its opening lines carry every earlier year, so this is the balance the
        ledger states, computed without matching openings across files.
        """
        path = self.files[-1]
        result: dict[str, int] = defaultdict(int)
        for _, lines, _ in self._lines(path, self._sniff(path)):
            for line in lines:
                if isinstance(line, LineCents):
                    result[line.customer] += line.amount
        return {customer: from_cents(total) for customer, total in result.items()}

    def diagnose(self) -> list[Check]:
        """Each file: can it be read, and does its header hold the mapped columns?"""
        checks = []
        for path in self.files:
            try:
                fmt = self._sniff(path)
                Columns.bind(fmt.header, self.ledger, str(path))
            except SourceUnavailable as exc:
                checks.append(Check(f"file {path.name}", ok=False, detail=exc.reason))
                continue
            separator = _SEPARATORS.get(fmt.delimiter, fmt.delimiter)
            detail = f"{fmt.encoding}, {separator}, {len(fmt.header)} columns"
            checks.append(Check(f"file {path.name}", ok=True, detail=detail))
        return checks

    def _sniff(self, path: Path) -> FileFormat:
        file = self.spec.file
        encoding = (
            self.settings.encoding
            if self.settings.encoding != "auto"
            else file.encoding
        )
        return sniff(
            path,
            encoding=encoding,
            delimiter=file.delimiter,
            names=() if file.header else file.columns,
            quoted=file.quoted,
        )

    def _lines(self, path: Path, fmt: FileFormat) -> Iterator[Parsed]:
        """Entries as (journal, receivable lines or rejects, counterpart accounts)."""
        parse = EntryParser(path, fmt, self.spec, self.receivable, tag(path))
        for entry in parse.entries():
            yield parse(entry)

    def _openings(self, path: Path, fmt: FileFormat) -> Openings:
        """Every opening line of a later year's file, wherever it stands."""
        found = Openings(tag(path))
        for journal, lines, _ in self._lines(path, fmt):
            if journal.upper() in self.opening:
                for line in lines:
                    if isinstance(line, LineCents) and line.amount:
                        found.add(line)
        return found

    def _read_file(
        self,
        path: Path,
        fmt: FileFormat,
        customers: dict[str, Customer],
        later: list[Openings],
        *,
        skip_opening: bool,
        known: Callable[[int], bool] | None = None,
        rows: bool = False,
    ) -> Iterator[tuple[int | None, list[Record | Row]]]:
        """(digest, records) of each entry; with ``known``, known entries are skipped.

        An entry with a reject has no digest: it is read again every time.
        """
        file_tag = tag(path)
        parse = EntryParser(path, fmt, self.spec, self.receivable, file_tag)
        # what the lines' bytes mean depends on the file's header and encoding too
        salt = self.salt + f"{path}\0{fmt!r}\0".encode()
        ymd: dict[dt.date, str] = {}
        for entry in parse.entries(salt, known):  # those ``known`` knows skipped
            digest = entry.digest
            journal, lines, others = parse(entry)
            kind = self._classify(journal, others)
            seen: dict[str, int] = defaultdict(int)
            records: list[Record | Row] = []
            for line in lines:
                if isinstance(line, Reject):
                    records.append(line)
                    digest = None
                    continue
                if not line.amount or (kind == "opening" and skip_opening):
                    continue
                seen[line.customer] += 1
                self._customer(customers, line)
                item = carry(line, file_tag, later) if later else line
                day = ymd.get(item.date) or ymd.setdefault(
                    item.date, f"{item.date:%Y%m%d}"
                )
                key = "/".join(
                    (
                        item.journal,
                        item.entry,
                        day,
                        item.customer,
                        str(seen[item.customer]),
                    )
                )
                row = self.documents.row(kind, key, item)
                records.append(row if rows else record(row))
            yield digest, records

    def _customer(self, customers: dict[str, Customer], line: LineCents) -> None:
        """The customer as its latest line names it (rebuilt only when that changes)."""
        known = customers.get(line.customer)
        if (
            known is None
            or known.name != line.customer_name
            or known.account != line.account
        ):
            customers[line.customer] = Customer(
                code=line.customer,
                name=line.customer_name,
                account=line.account,
                payment_terms=self.terms_text.get(line.customer, self.default_text),
            )

    def _classify(self, journal: str, others: set[str]) -> str:
        return self._kind(journal, frozenset(others))

    def _kind_of(self, journal: str, others: frozenset[str]) -> str:
        if journal.upper() in self.opening:
            return "opening"
        if any(a.startswith(self.sales) for a in others):
            return "sale"
        if any(a.startswith(self.cash) for a in others):
            return "cash"
        if journal.upper() in self.sales_journals:
            return "sale"
        return "other"


class LedgerReading:
    """A full read of every file: a complete snapshot of the ledger.

    With one file, records come entry by entry with a digest per entry
    (``digests``), so that the next read can skip the entries that did not change.
    """

    complete = True

    def __init__(self, mapper: LedgerMapper, fingerprint: str) -> None:
        self._mapper = mapper
        self._fingerprint = fingerprint
        self.digests = len(mapper.files) == 1

    def records(self) -> Iterator[Record]:
        return self._mapper.records()

    def entries(
        self, known: Callable[[int], bool] | None = None, *, rows: bool = False
    ) -> Iterator[tuple[int | None, list[Record | Row]]]:
        return self._mapper.entries(known, rows=rows)

    def checkpoint(self) -> str:
        return self._fingerprint


def _fiscal_order(path: Path) -> tuple[str, str]:
    return (tag(path), path.name)


_SEPARATORS = {"\t": "TAB", "|": "|", ";": ";", ",": ","}
