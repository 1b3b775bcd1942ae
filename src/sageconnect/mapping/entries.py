"""The entries mapper: an ODBC source whose SQL says what each receivable line is.

Customers and receivable entries are read with the mapping's two queries. A read
is incremental (rows whose watermark is at or after the last one seen, minus a
look-back window for rows committed late) or full (every row: what is not read
is gone, so deletions and re-lettering are caught). A full read happens on the
first sync, when asked, and every ``full_every_hours``.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from typing import Any

from sageconnect.errors import SourceUnavailable
from sageconnect.mapping.convert import ConvertError, Getter
from sageconnect.mapping.diagnosis import Check
from sageconnect.mapping.documents import DocumentMaker, LedgerSettings, Row
from sageconnect.mapping.rows import RowBuilder, compile_fields, safe_key
from sageconnect.mapping.spec import (
    AnyStream,
    MappingSpec,
)
from sageconnect.model.money import CENT
from sageconnect.model.records import Record, Reject
from sageconnect.readers.odbc import OdbcSettings, OdbcSource

# Bounds compared with the source's naive timestamps.
EPOCH = dt.datetime(1753, 1, 1)  # noqa: DTZ001 - Sage's empty date: a full read
FUTURE = dt.datetime(9999, 1, 1)  # noqa: DTZ001 - selects no row: a self-check


Build = Callable[[dict[str, Getter], Sequence[Any]], Record]
Stream = tuple[str, AnyStream, Build]
Maker = Callable[[dict[str, Getter]], Callable[[Sequence[Any]], Record | Row]]


class EntriesMapper:
    """A Mapper over an ODBC source described by a ``format = "entries"`` mapping."""

    def __init__(
        self,
        spec: MappingSpec,
        odbc: OdbcSettings,
        settings: LedgerSettings,
        now: Callable[[], dt.datetime],
        *,
        lookback_minutes: int | None = None,
        full_every_hours: int | None = None,
    ) -> None:
        if spec.customers is None or spec.entries is None:
            raise ValueError(
                f"mapping {spec.mapping.name} lacks [customers] or [entries]"
            )
        self.name = spec.mapping.name
        self.spec = spec
        self.odbc = odbc
        self.rows = rows = RowBuilder(DocumentMaker(settings))
        self.streams: list[Stream] = [("customers", spec.customers, rows.customer)]
        if spec.contacts is not None:
            self.streams.append(("contacts", spec.contacts, rows.contact))
        self.streams.append(("entries", spec.entries, rows.entry))
        if spec.settlements is not None:
            self.streams.append(("settlements", spec.settlements, rows.settlement))
        self.now = now
        self.lookback = dt.timedelta(
            minutes=spec.odbc.lookback_minutes
            if lookback_minutes is None
            else lookback_minutes
        )
        self.full_every = dt.timedelta(
            hours=full_every_hours or spec.odbc.full_every_hours
        )

    def read(self, checkpoint: str | None, *, full: bool) -> EntriesReading:
        state = _state(checkpoint)
        now = self.now()
        last_full = state.get("full_at")
        due = (
            last_full is None
            or now - dt.datetime.fromisoformat(last_full) >= self.full_every
        )
        if full or due or not state:
            return EntriesReading(self, dict.fromkeys(state, EPOCH), state, full_at=now)
        window = {
            name: _since(state.get(name), self.lookback) for name, _, _ in self.streams
        }
        return EntriesReading(self, window, state, full_at=None)

    def totals(self) -> dict[str, Decimal] | None:
        """Per-customer balances as the source's own [totals] query computes them."""
        if self.spec.totals is None:
            return None
        result: dict[str, Decimal] = {}
        with OdbcSource(self.odbc) as source:
            for _, row in source.rows(self.spec.totals.query):
                code, balance = row[0], row[1]
                amount = Decimal(str(balance or 0)).quantize(CENT)
                result[str(code).strip()] = amount
        return result

    def diagnose(self) -> list[Check]:
        """Connect, run each query for no rows: valid SQL, mapped columns present."""
        try:
            source = OdbcSource(self.odbc).__enter__()
        except SourceUnavailable as exc:
            return [Check("connect", ok=False, detail=exc.reason)]
        timeout = "query timeout" if source.query_timeout_supported else "watchdog"
        checks = [Check("connect", ok=True, detail=f"connected ({timeout})")]
        try:
            for name, spec, _ in self.streams:
                checks.append(_query_check(source, name, spec))
        finally:
            source.__exit__(None, None, None)
        return checks


def _query_check(
    source: OdbcSource,
    name: str,
    spec: AnyStream,
) -> Check:
    params = [FUTURE] * str(spec.query).count("?")
    try:
        names = source.columns(str(spec.query), params)
        compile_fields(spec, names)
        _position(names, spec.watermark)
    except SourceUnavailable as exc:
        return Check(f"{name} query", ok=False, detail=exc.reason)
    except ConvertError as exc:
        return Check(f"{name} query", ok=False, detail=f"no column {exc.column}")
    return Check(f"{name} query", ok=True, detail=f"{len(names)} columns")


class EntriesReading:
    """One read; ``complete`` when it is a full pass."""

    def __init__(
        self,
        mapper: EntriesMapper,
        window: dict[str, dt.datetime],
        state: dict[str, str],
        full_at: dt.datetime | None,
    ) -> None:
        self.mapper = mapper
        self.window = window
        self.complete = full_at is not None
        self.state = dict(state)
        if full_at is not None:
            self.state["full_at"] = full_at.isoformat()

    def records(self) -> Iterator[Record]:
        return self._items(staged=False)  # type: ignore[return-value]

    def staged_rows(self) -> Iterator[Record | Row]:
        """What ``records`` gives, with invoices and payments as staged rows
        (mapping.documents.Row): the sync's path, without making the records."""
        return self._items(staged=True)

    def _items(self, *, staged: bool) -> Iterator[Record | Row]:
        rows = self.mapper.rows
        with OdbcSource(self.mapper.odbc) as source:
            for name, spec, build in self.mapper.streams:
                since = self.window.get(name, EPOCH)
                maker: Maker = functools.partial(functools.partial, build)
                if name == "entries":
                    maker = rows.entry_maker if staged else rows.entry_records
                yield from self._stream(source, name, spec, since, maker)

    def checkpoint(self) -> str:
        return json.dumps(self.state, sort_keys=True)

    def _stream(
        self,
        source: OdbcSource,
        stream: str,
        spec: AnyStream,
        since: dt.datetime,
        maker: Maker,
    ) -> Iterator[Record | Row]:
        params = [since] * str(spec.query).count("?") if spec.watermark else []
        getters: dict[str, Getter] = {}
        mark: int | None = None
        newest = _Newest(self.state.get(stream))
        for names, batch in source.batches(str(spec.query), params):
            if not getters:
                try:
                    getters = compile_fields(spec, names)
                    mark = _position(names, spec.watermark)
                except ConvertError as exc:
                    raise SourceUnavailable(
                        f"{self.mapper.name}:{stream}",
                        f"the query has no column {exc.column} ({exc.reason})",
                    ) from None
                build = maker(getters)
            for row in batch:
                try:
                    yield build(row)
                except ConvertError as bad:
                    key = safe_key(getters.get("key") or getters["code"], row)
                    yield Reject(
                        where=f"{stream}/{key}",
                        field=bad.column,
                        value=None if bad.value is None else str(bad.value)[:200],
                        reason=bad.reason,
                    )
                if mark is not None:
                    newest.see(row[mark])
            batch.clear()  # its rows are not held while the next batch is fetched
        if (value := newest.value()) is not None:
            self.state[stream] = value


class _Newest:
    """The newest watermark seen, as _timestamp writes it.

    Naive datetimes (what drivers give) are compared as they are and written
    once at the end: the same order as their ISO texts, at a fraction of the
    cost of writing each.
    """

    def __init__(self, start: str | None) -> None:
        self.text = start
        self.latest: dt.datetime | None = None
        self.last: Any = None

    def see(self, value: Any) -> None:
        if value is self.last or (type(value) is str and value == self.last):
            return  # as the previous row's (rows often share their stamp)
        self.last = value
        if type(value) is dt.datetime and value.tzinfo is None:
            if self.latest is None or value > self.latest:
                self.latest = value
        elif text := _timestamp(value):
            self.text = text if self.text is None else max(self.text, text)

    def value(self) -> str | None:
        if self.latest is not None:
            self.see(_timestamp(self.latest))
            self.latest = None
        return self.text


def _position(names: Sequence[str], column: str | None) -> int | None:
    if column is None:
        return None
    folded = [n.lower() for n in names]
    if column.lower() not in folded:
        raise ConvertError(column, None, "watermark column missing from the query")
    return folded.index(column.lower())


def _since(value: str | None, lookback: dt.timedelta) -> dt.datetime:
    return dt.datetime.fromisoformat(value) - lookback if value else EPOCH


def _timestamp(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.replace(microsecond=0).isoformat()
    return dt.datetime.fromisoformat(str(value).strip()).isoformat()


def _state(checkpoint: str | None) -> dict[str, str]:
    """The streams' watermarks; anything else (another mapping's) means a full read."""
    try:
        state = json.loads(checkpoint) if checkpoint else {}
    except ValueError:
        return {}
    return state if isinstance(state, dict) else {}
