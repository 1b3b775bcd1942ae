"""The words of a note and how they fit a Sage column (pure functions)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from sageconnect.writeback.text import amount, encodable, fit, marker, note_text

KEY = "d38ef5ac2bc921b94f7786e1aeebbc6f"


def long_note() -> str:
    return note_text(
        mark=marker(KEY),
        on=dt.date(2026, 11, 24),
        level=2,
        step="formal_notice",
        channel="letter",
        outcome="sent",
        total=Decimal("17268.55"),
        interest=Decimal("2948.03"),
        indemnity=Decimal("40.00"),
        numbers=("FA2500013", "FA2500014"),
    )


def test_the_full_text_says_when_how_what_and_how_much() -> None:
    """Date, level, channel, outcome, invoices, amount and fees, in French."""
    assert long_note() == (
        "(sc:d38ef5ac2b) 24/11/2026 relance 2 courrier envoyée ; 2 fact."
        " FA2500013, FA2500014 ; 17 268,55 € dont pénalités 2 948,03 €"
        " + indemnité 40,00 € ; étape formal_notice"
    )


def test_the_marker_is_the_start_of_the_reminder_key() -> None:
    """The accountant finds the reminder in `reminders list` from the note."""
    assert marker(KEY) == "(sc:d38ef5ac2b)"
    assert marker(KEY, "failed") == "(sc:d38ef5ac2b-e)"
    assert marker("not-hex") != marker("not-hex2")


def test_a_long_note_is_cut_at_a_word_and_keeps_its_marker() -> None:
    """69 bytes of cp1252 at most, ending with an ellipsis, the marker first."""
    short = fit(long_note(), 69, "cp1252")
    assert len(short.encode("cp1252")) <= 69
    assert short.startswith("(sc:d38ef5ac2b) 24/11/2026 relance 2 courrier")
    assert short.endswith("…")
    assert long_note().startswith(short.removesuffix("…"))
    assert not short.removesuffix("…").endswith((" ", ";"))


def test_a_note_that_fits_is_left_whole() -> None:
    """No ellipsis when nothing is cut."""
    assert fit(long_note(), 400, "cp1252") == long_note()
    assert fit(long_note(), None, "cp1252") == long_note()


def test_french_letters_stay_and_missing_ones_become_plain() -> None:
    """cp1252 keeps é è œ ’ €; ő (absent) becomes o; what has no plain form is ?."""
    assert encodable("é è œ ’ € ő 😀", "cp1252") == "é è œ ’ € o ?"
    assert encodable("é œ ’ € …", "ascii") == "e oe ' EUR ..."


def test_amounts_use_french_grouping_and_the_euro_sign() -> None:
    """1 234 567,89 €, negative with a minus."""
    assert amount(Decimal("1234567.89")) == "1 234 567,89 €"
    assert amount(Decimal(-5)) == "-5,00 €"
    assert amount(Decimal("0.5")) == "0,50 €"


@given(
    text=st.text(min_size=1, max_size=300),
    length=st.integers(min_value=20, max_value=200),
    encoding=st.sampled_from(["cp1252", "utf-8", "ascii"]),
)
def test_fitted_text_always_fits_and_keeps_its_start(
    text: str, length: int, encoding: str
) -> None:
    """Whatever the text, the result encodes in at most ``length`` bytes and is a
    start of the (encodable, single-spaced) original."""
    whole = encodable(" ".join(text.split()), encoding)
    short = fit(text, length, encoding)
    assert len(short.encode(encoding)) <= length
    tail = encodable("…", encoding)
    assert short == whole or whole.startswith(short.removesuffix(tail))
