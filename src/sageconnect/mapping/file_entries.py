"""The entries mapper over export files: one file of customers, one of entries.

For any system that can export its receivables as delimited text (see
mappings/csv.toml). Each read is a full snapshot; files unchanged since the last
read (same bytes, same mapping) are not read again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from sageconnect.errors import SourceUnavailable
from sageconnect.mapping.convert import ConvertError, Getter
from sageconnect.mapping.diagnosis import Check
from sageconnect.mapping.documents import DocumentMaker, LedgerSettings
from sageconnect.mapping.rows import RowBuilder, compile_fields
from sageconnect.mapping.snapshot import fingerprint
from sageconnect.mapping.spec import CustomersSpec, EntriesSpec, MappingSpec
from sageconnect.model.records import Record, Reject
from sageconnect.readers.files import read_rows, sniff

Binder = Callable[[dict[str, Getter]], Callable[[Sequence[Any]], Record]]
"""Binds a file's getters once; gives the builder of each of its rows."""


class FileEntriesMapper:
    """A Mapper over ``customers`` and ``entries`` files in one folder."""

    def __init__(
        self, spec: MappingSpec, folder: Path, settings: LedgerSettings
    ) -> None:
        if spec.customers is None or spec.entries is None:
            raise ValueError(
                f"mapping {spec.mapping.name} lacks [customers] or [entries]"
            )
        self.name = spec.mapping.name
        self.spec = spec
        self.streams: list[tuple[CustomersSpec | EntriesSpec, Path]] = [
            (spec.customers, folder / str(spec.customers.file)),
            (spec.entries, folder / str(spec.entries.file)),
        ]
        self.settings = settings
        self.rows = RowBuilder(DocumentMaker(settings))

    def read(self, checkpoint: str | None, *, full: bool) -> FileEntriesReading | None:
        now = fingerprint([path for _, path in self.streams], self.spec, self.settings)
        if now == checkpoint and not full:
            return None
        return FileEntriesReading(self, now)

    def diagnose(self) -> list[Check]:
        """Each file: readable, and holding the mapped columns?"""
        checks = []
        for spec, path in self.streams:
            try:
                fmt = sniff(
                    path,
                    encoding=self.spec.file.encoding,
                    delimiter=self.spec.file.delimiter,
                )
                compile_fields(spec, fmt.header)
            except SourceUnavailable as exc:
                checks.append(Check(f"file {path.name}", ok=False, detail=exc.reason))
            except ConvertError as exc:
                detail = f"header lacks column {exc.column}"
                checks.append(Check(f"file {path.name}", ok=False, detail=detail))
            else:
                checks.append(
                    Check(
                        f"file {path.name}",
                        ok=True,
                        detail=f"{len(fmt.header)} columns",
                    )
                )
        return checks


class FileEntriesReading:
    """A full read of both files."""

    complete = True

    def __init__(self, mapper: FileEntriesMapper, fingerprint: str) -> None:
        self.mapper = mapper
        self._fingerprint = fingerprint

    def checkpoint(self) -> str:
        return self._fingerprint

    def records(self) -> Iterator[Record]:
        m = self.mapper
        binders: tuple[Binder, Binder] = (
            partial(partial, m.rows.customer),
            m.rows.entry_records,
        )
        for (spec, path), bind in zip(m.streams, binders, strict=True):
            yield from self._file(spec, path, bind)

    def _file(
        self,
        spec: CustomersSpec | EntriesSpec,
        path: Path,
        bind: Binder,
    ) -> Iterator[Record]:
        file = self.mapper.spec.file
        encoding = self.mapper.settings.encoding
        fmt = sniff(
            path,
            encoding=file.encoding if encoding == "auto" else encoding,
            delimiter=file.delimiter,
            names=() if file.header else file.columns,
            quoted=file.quoted,
        )
        try:
            getters = compile_fields(spec, fmt.header)
        except ConvertError as exc:
            raise SourceUnavailable(
                str(path), f"header lacks column {exc.column}"
            ) from None
        build = bind(getters)  # once per file, not per row
        for row in read_rows(path, fmt):
            if isinstance(row, Reject):
                yield row
                continue
            number, fields = row
            try:
                yield build(fields)
            except ConvertError as bad:
                yield Reject(
                    where=str(path),
                    line=number,
                    field=bad.column,
                    value=None if bad.value is None else str(bad.value)[:200],
                    reason=bad.reason,
                )
