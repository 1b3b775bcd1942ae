"""Dunning activity: the reminders sent per step and channel, and what got paid
after each. Pure.

Every invoice a sent reminder carried counts once for its step and channel,
with what was open on it when the reminder was planned. What got paid is
credited to the **last** reminder the invoice received (the step after which
the customer paid): ``paid = open at that reminder - open on as_of`` (never
below 0 nor above what was open). So per row:

- ``messages``: reminders sent; ``invoices``: invoice mentions;
- ``reminded``: the amounts open when they went out;
- ``paid_after``: what was paid on invoices whose last reminder was this one;
- ``paid_share`` = ``paid_after / reminded × 100``.

Only reminders planned from ``since`` to ``as_of`` count.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True, kw_only=True)
class Reminded:
    """One invoice carried by one sent reminder."""

    reminder: str  # the reminder's key
    step: str
    channel: str
    on: dt.date
    invoice: str  # the invoice's key
    open: Decimal  # open when the reminder was planned


@dataclass(frozen=True, slots=True, kw_only=True)
class StepActivity:
    step: str
    channel: str
    messages: int
    invoices: int
    reminded: Decimal
    paid_after: Decimal
    paid_share: Decimal | None


def activity(
    items: Iterable[Reminded],
    open_now: Mapping[str, Decimal],
    since: dt.date,
    as_of: dt.date,
) -> list[StepActivity]:
    """Per step and channel, in the order steps were first used."""
    window = sorted(
        (i for i in items if since <= i.on <= as_of), key=lambda i: (i.on, i.reminder)
    )
    last: dict[str, Reminded] = {}
    for i in window:
        last[i.invoice] = i
    rows: dict[tuple[str, str], tuple[set[str], list[Reminded], list[Decimal]]] = {}
    for i in window:
        keys, mentions, paid = rows.setdefault((i.step, i.channel), (set(), [], []))
        keys.add(i.reminder)
        mentions.append(i)
        if last[i.invoice] is i:
            now = max(open_now.get(i.invoice, ZERO), ZERO)
            paid.append(max(ZERO, min(i.open, i.open - now)))
    out = []
    for (step, channel), (keys, mentions, paid) in rows.items():
        reminded = sum((m.open for m in mentions), ZERO)
        paid_after = sum(paid, ZERO)
        share = (
            (paid_after * 100 / reminded).quantize(Decimal("0.1"), ROUND_HALF_UP)
            if reminded > 0
            else None
        )
        out.append(
            StepActivity(
                step=step,
                channel=channel,
                messages=len(keys),
                invoices=len(mentions),
                reminded=reminded,
                paid_after=paid_after,
                paid_share=share,
            )
        )
    return out
