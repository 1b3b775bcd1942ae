from __future__ import annotations

import datetime as dt

import pytest

from sageconnect.terms import parse_terms


@pytest.mark.parametrize(
    ("terms", "issued", "due"),
    [
        ("30d", dt.date(2026, 1, 15), dt.date(2026, 2, 14)),
        ("0d", dt.date(2026, 1, 15), dt.date(2026, 1, 15)),
        ("60d", dt.date(2026, 12, 15), dt.date(2027, 2, 13)),
        ("45d-eom", dt.date(2026, 1, 20), dt.date(2026, 3, 31)),
        ("eom+45d", dt.date(2026, 1, 20), dt.date(2026, 3, 17)),
        ("45d-eom", dt.date(2027, 1, 10), dt.date(2027, 2, 28)),
    ],
)
def test_due_dates_follow_french_terms(
    terms: str, issued: dt.date, due: dt.date
) -> None:
    """Net, N days end of month and end of month plus N days give the legal due dates."""
    assert parse_terms(terms).due(issued) == due


@pytest.mark.parametrize("bad", ["30", "30 days", "d30", "45d-fdm", "eom45d", ""])
def test_unknown_terms_are_refused(bad: str) -> None:
    """A terms string outside the documented forms is an error that shows the forms."""
    with pytest.raises(ValueError, match="30d, 45d-eom or eom"):
        parse_terms(bad)
