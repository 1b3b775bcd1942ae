"""Opening (a-nouveau) lines across fiscal years.

Each year's file opens with lines repeating what the previous year left open.
When that previous year is loaded too, these lines must not be counted again:
each is matched to the item it carries (customer, side, piece, amount) and lends
it its current state (lettering, due date). An item open over several years is
followed from file to file, so the newest file decides its state.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

from sageconnect.errors import SourceUnavailable
from sageconnect.mapping.ledger_line import LineCents, scoped

_CLOSING = re.compile(r"FEC(\d{8})", re.IGNORECASE)
AliasKey = tuple[str, bool, str, int]


@dataclass(frozen=True, slots=True)
class Carried:
    """An item's state as a later year's opening line shows it."""

    lettering: str
    lettered_on: dt.date | None
    due: dt.date | None


@dataclass(slots=True)
class Openings:
    """One file's opening lines, by the item they carry."""

    tag: str
    lines: dict[AliasKey, deque[Carried]] = field(
        default_factory=lambda: defaultdict(deque)
    )
    first_date: dt.date | None = None

    def add(self, line: LineCents) -> None:
        self.lines[alias(line)].append(
            Carried(scoped(self.tag, line.lettering), line.lettered_on, line.due)
        )
        if self.first_date is None or line.date < self.first_date:
            self.first_date = line.date

    def left(self) -> int:
        return sum(len(q) for q in self.lines.values())


def carry(line: LineCents, tag: str, later: Sequence[Openings]) -> LineCents:
    """The line with its lettering scoped, and its state from later years if carried."""
    state = Carried(scoped(tag, line.lettering), line.lettered_on, line.due)
    key = alias(line)
    for openings in later:
        if state.lettering and not _partial(state.lettering):
            break  # settled by the end of that year: no later year carries it
        queue = openings.lines.get(key)
        if not queue:
            break
        found = queue.popleft()
        state = Carried(found.lettering, found.lettered_on, found.due or state.due)
    lettered_on = state.lettered_on if state.lettering else None
    if (state.lettering, lettered_on, state.due) == (
        line.lettering,
        line.lettered_on,
        line.due,
    ):
        return line  # the common case: nothing carried, lettering scoped already
    return line._replace(
        lettering=state.lettering,
        lettered_on=lettered_on,
        due=state.due,
    )


def check_years(files: Sequence[Path], openings: Sequence[Openings]) -> None:
    """Refuse two files for one fiscal year, or a year missing between two loaded."""
    tags = [tag(f) for f in files]
    for earlier, later in pairwise(files):
        if tag(earlier) == tag(later):
            raise SourceUnavailable(
                str(later),
                f"same fiscal year as {earlier.name}: keep one file per year",
            )
    for i, opening in enumerate(openings, start=1):
        closing = _as_date(tags[i - 1])
        if (
            closing
            and opening.first_date
            and opening.first_date != closing + dt.timedelta(1)
        ):
            raise SourceUnavailable(
                str(files[i]),
                f"opens on {opening.first_date} but the previous file closes on "
                f"{closing}: a fiscal year is missing between them",
            )


def alias(line: LineCents) -> AliasKey:
    return (line.customer, line.amount > 0, line.piece, abs(line.amount))


def tag(path: Path) -> str:
    """The fiscal year's closing date from a name like 123456789FEC20251231.txt."""
    match = _CLOSING.search(path.name)
    return match.group(1) if match else path.stem


def _partial(lettering: str) -> bool:
    return lettering.rpartition(":")[2].islower()


def _as_date(text: str) -> dt.date | None:
    try:
        return dt.datetime.strptime(text, "%Y%m%d").date()  # noqa: DTZ007 - a date
    except ValueError:
        return None
