"""The newest watermark of a stream: datetimes compared as they are, written once."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from sageconnect.mapping.entries import _Newest, _timestamp


def per_row(start: str | None, values: list[Any]) -> str | None:
    """What the mapper did before: each value written as ISO text, the greatest kept."""
    newest = start
    for value in values:
        if text := _timestamp(value):
            newest = text if newest is None else max(newest, text)
    return newest


def test_the_newest_is_what_writing_each_value_gives() -> None:
    """Datetimes (with microseconds), ISO texts, NULLs and empty texts, in any order:
    the same watermark as writing each value and keeping the greatest text."""
    rng = random.Random(7)  # noqa: S311 - seeded test data
    base = dt.datetime(2026, 3, 1, 10, 0)  # noqa: DTZ001 - the sources' naive stamps
    for _ in range(200):
        values: list[Any] = []
        for _ in range(rng.randint(0, 12)):
            stamp = base + dt.timedelta(
                seconds=rng.randint(-5, 5), microseconds=rng.randint(0, 999_999)
            )
            values.append(
                rng.choice([stamp, stamp.isoformat(sep=" "), None, "", stamp])
            )
        start = rng.choice([None, "2026-03-01T10:00:03", "2026-03-01T09:00:00"])
        newest = _Newest(start)
        for value in values:
            newest.see(value)
        assert newest.value() == per_row(start, values)


def test_the_same_second_keeps_its_text() -> None:
    """A datetime later by microseconds only is the same second as the stored text."""
    newest = _Newest("2026-03-01T10:00:00")
    newest.see(dt.datetime(2026, 3, 1, 10, 0, 0, 500))  # noqa: DTZ001
    assert newest.value() == "2026-03-01T10:00:00"
