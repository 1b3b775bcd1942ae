"""The words of a note, and how they are made to fit a column (pure functions).

A note starts with its marker so that truncation never cuts it; it is cut at a
word with an ellipsis when the column is too short, and every character the
target's code page lacks is replaced by its closest plain letter (``ő`` -> ``o``)
rather than failing the write (cp1252 has é, è, œ, ’ and € but not ő).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import unicodedata
from decimal import Decimal

from sageconnect.dunning.formatting import NBSP, money
from sageconnect.logs import scrub

MARKER_CHARS = 10
_CHANNELS = {"email": "e-mail", "sms": "SMS", "letter": "courrier", "call": "appel"}
_OUTCOMES = {"sent": "envoyée", "failed": "échouée"}
_PLAIN = {"€": "EUR", "’": "'", "‘": "'", "œ": "oe", "Œ": "OE", "…": "...", "«": '"'}
_PLAIN |= {"»": '"', "“": '"', "”": '"', "–": "-", "—": "-"}


def marker(reminder_key: str, outcome: str = "sent") -> str:
    """``(sc:<first 10 hex of the key>)``: the reminders list shows the same key;
    a failure's note is a different event: ``(sc:<key>-e)``.

    Parentheses, not brackets: ``[`` opens a character class in SQL Server's LIKE.
    """
    key = reminder_key.lower()
    if not all(c in "0123456789abcdef" for c in key) or len(key) < MARKER_CHARS:
        key = hashlib.sha256(reminder_key.encode()).hexdigest()
    suffix = "" if outcome == "sent" else "-e"
    return f"(sc:{key[:MARKER_CHARS]}{suffix})"


def amount(value: Decimal) -> str:
    """``1 234,56 €``: French grouping with plain spaces (a column is one line)."""
    return money(value, "€", "fr").replace(NBSP, " ")


def note_text(
    *,
    mark: str,
    on: dt.date,
    level: int,
    step: str,
    channel: str,
    outcome: str,
    total: Decimal,
    interest: Decimal,
    indemnity: Decimal,
    numbers: tuple[str, ...],
    detail: str = "",
) -> str:
    """The full line of history, in French: what left, when, how, for which
    invoices, for how much; the invoices come before the amounts, so that a
    short column keeps them."""
    fees = []
    if interest:
        fees.append(f"pénalités {amount(interest)}")
    if indemnity:
        fees.append(f"indemnité {amount(indemnity)}")
    claimed = amount(total) + (f" dont {' + '.join(fees)}" if fees else "")
    how = _CHANNELS.get(channel, channel)
    said = _OUTCOMES.get(outcome, outcome)
    if detail:
        said += f" ({scrub(' '.join(detail.split()))[:80]})"
    count = f"{len(numbers)} fact." if len(numbers) > 1 else "fact."
    return (
        f"{mark} {on:%d/%m/%Y} relance {level} {how} {said} ; {count}"
        f" {', '.join(numbers)} ; {claimed} ; étape {step}"
    )


def fit(text: str, length: int | None, encoding: str) -> str:
    """The text in at most ``length`` bytes of ``encoding``, cut at a word."""
    text = encodable(" ".join(text.split()), encoding)
    if length is None or len(text.encode(encoding)) <= length:
        return text
    tail = encodable("…", encoding)
    room = length - len(tail.encode(encoding))
    cut = text[:room]  # every character takes at least one byte
    while len(cut.encode(encoding)) > room:
        cut = cut[:-1]
    head, space, _ = cut.rpartition(" ")
    if space and len(head) > len(text.split(" ", 1)[0]):
        cut = head
    return cut.rstrip(" ,;:") + tail


def encodable(text: str, encoding: str) -> str:
    """Each character the code page lacks becomes its plain letter, else ``?``."""
    out = []
    for char in text:
        try:
            char.encode(encoding)
        except UnicodeEncodeError:
            plain = _PLAIN.get(char) or "".join(
                c
                for c in unicodedata.normalize("NFKD", char)
                if not unicodedata.combining(c) and _fits(c, encoding)
            )
            out.append(plain or "?")
            continue
        out.append(char)
    return "".join(out)


def _fits(char: str, encoding: str) -> bool:
    try:
        char.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True
