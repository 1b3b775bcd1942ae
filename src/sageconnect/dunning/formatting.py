"""Amounts, dates and rates as a reminder prints them, in French or English.

French: ``1 234,56 EUR``, ``24/11/2026``, ``12,15 %``; English: ``EUR 1,234.56``,
``24 Nov 2026``, ``12.15%``. The spaces inside French amounts and rates, and
between an amount and its currency in both languages, are NO-BREAK SPACEs
(U+00A0), not plain spaces: an amount never wraps across lines in an e-mail or a
letter, and U+00A0 exists in latin-1 and cp1252 (the PDF core fonts) where Babel's
U+202F (its French grouping separator) does not. SMS text goes through
:func:`gsm7`, which turns them into plain spaces; compare with ``NBSP`` in tests.

Pure functions of their arguments: no Babel (CLDR data changes separators between
releases, which would change every golden file), never ``locale.setlocale`` (a
process-wide switch that also changes how pyodbc parses decimals). The currency is
printed as its ISO code, never as a symbol.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from decimal import ROUND_HALF_UP, Decimal

NBSP = "\u00a0"

_CENT = Decimal("0.01")
_FR_MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
_EN_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _french(language: str) -> bool:
    """English is spelled out; anything else (the default language) prints French."""
    return language != "en"


def _grouped(value: Decimal, places: str, *, french: bool) -> str:
    """``value`` with thousands grouped, in the language's separators."""
    text = f"{value:,{places}}"  # "1,234.56"
    if french:
        text = text.replace(",", NBSP).replace(".", ",")
    return text


def _decimal(value: object, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"{what} must be a Decimal, not {value!r}")
    return Decimal(value)


def money(amount: Decimal, currency: str, language: str) -> str:
    """An amount to the cent (half up), with its currency code.

    ``money(Decimal("1234.56"), "EUR", "fr") == "1\\u00a0234,56\\u00a0EUR"``;
    ``money(Decimal("1234.56"), "EUR", "en") == "EUR\\u00a01,234.56"``.
    """
    value = _decimal(amount, "an amount").quantize(_CENT, rounding=ROUND_HALF_UP)
    if _french(language):
        return f"{_grouped(value, '.2f', french=True)}{NBSP}{currency}"
    return f"{currency}{NBSP}{_grouped(value, '.2f', french=False)}"


def day(date: dt.date, language: str) -> str:
    """A short date: ``24/11/2026`` in French, ``24 Nov 2026`` in English."""
    if not isinstance(date, dt.date):
        raise TypeError(f"a date is required, not {date!r}")
    if _french(language):
        return f"{date.day:02d}/{date.month:02d}/{date.year}"
    return f"{date.day} {_EN_MONTHS[date.month - 1][:3]} {date.year}"


def long_day(date: dt.date, language: str) -> str:
    """A date in words: ``1er décembre 2026``, ``24 November 2026``."""
    if not isinstance(date, dt.date):
        raise TypeError(f"a date is required, not {date!r}")
    if _french(language):
        number = "1er" if date.day == 1 else str(date.day)
        return f"{number} {_FR_MONTHS[date.month - 1]} {date.year}"
    return f"{date.day} {_EN_MONTHS[date.month - 1]} {date.year}"


def percent(rate: Decimal, language: str) -> str:
    """An annual rate given in percent: ``12,15 %`` (fr), ``12.15%`` (en).

    Two decimals at least, up to four when the rate has them (``2,625 %``).
    """
    value = _decimal(rate, "a rate")
    exponent = value.normalize().as_tuple().exponent
    places = min(max(-exponent if isinstance(exponent, int) else 2, 2), 4)
    value = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    if _french(language):
        return f"{_grouped(value, f'.{places}f', french=True)}{NBSP}%"
    return f"{_grouped(value, f'.{places}f', french=False)}%"


# GSM 03.38 basic character set and its extension table (escape + char).
_GSM7 = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
    "^{}\\[~]|€"
)
_GSM7_SUBSTITUTES = {
    "\u00a0": " ",
    "\u202f": " ",
    "\u2009": " ",
    "\t": " ",
    "’": "'",
    "‘": "'",
    "‚": "'",
    "“": '"',
    "”": '"',
    "„": '"',
    "«": '"',
    "»": '"',
    "–": "-",
    "—": "-",
    "‑": "-",
    "…": "...",
    "œ": "oe",
    "Œ": "OE",
    "ç": "c",
}


def gsm7(text: str) -> str:
    """Text an SMS can carry in the GSM-7 alphabet, where French allows it.

    Typographic quotes, dashes and spaces become their plain forms, accented
    letters outside GSM-7 lose their accent (``ê`` → ``e``), control characters
    are dropped, runs of spaces collapse and lines are trimmed. A character with
    no plain form is kept: the SMS then goes out in UCS-2 rather than garbled.
    """
    out: list[str] = []
    for char in text:
        if char in _GSM7 and char != "\r":
            out.append(char)
        elif char in _GSM7_SUBSTITUTES:
            out.append(_GSM7_SUBSTITUTES[char])
        elif unicodedata.category(char).startswith("C"):
            continue
        else:
            base = "".join(
                c
                for c in unicodedata.normalize("NFKD", char)
                if not unicodedata.combining(c)
            )
            out.append(base if base and all(c in _GSM7 for c in base) else char)
    lines = (" ".join(line.split()) for line in "".join(out).split("\n"))
    return "\n".join(lines).strip()
