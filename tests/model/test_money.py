from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sageconnect.model.money import (
    cents,
    from_cents,
    parse_amount,
    parse_cents,
    to_cents,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1234,56", "1234.56"),
        ("0000000074,70", "74.70"),
        ("  12,00 ", "12.00"),
        ("-0,01", "-0.01"),
        ("0,01-", "-0.01"),
        ("+3656,88", "3656.88"),
        ("3656.88", "3656.88"),
        ("100", "100.00"),
    ],
)
def test_parse_amount_reads_fec_forms(text: str, expected: str) -> None:
    """Decimal comma, zero padding, sign first or last and a tolerated point all parse exactly."""
    assert parse_amount(text) == Decimal(expected)


@pytest.mark.parametrize("text", ["12,3.4", "1,2,3", "", "abc", "12,345", "1 2x"])
def test_parse_amount_refuses_what_is_not_an_amount(text: str) -> None:
    """Ambiguous or malformed amounts are refused, never guessed."""
    with pytest.raises(ValueError, match=r"\w"):
        parse_amount(text)


def test_cents_rounds_half_up() -> None:
    """French accounting rounds half up, not to even."""
    assert cents(Decimal("0.125")) == Decimal("0.13")
    assert cents(Decimal("-0.125")) == Decimal("-0.13")


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_cents_round_trip_exactly(value: int) -> None:
    """Integer cents and Decimal amounts convert both ways without loss."""
    assert to_cents(from_cents(value)) == value


def test_to_cents_refuses_fractions_of_a_cent() -> None:
    """An amount with a third decimal is an error, not silently rounded."""
    with pytest.raises(ValueError, match="fractions of a cent"):
        to_cents(Decimal("1.005"))


_AMOUNT_TEXT = st.one_of(
    st.from_regex(r"[-+]?[0-9]{1,9}([,.][0-9]{0,3})?[-+]?", fullmatch=True),
    st.text(alphabet="0123456789,. -+\u00a0", max_size=12),
)


@given(_AMOUNT_TEXT, st.booleans())
def test_parse_cents_agrees_with_parse_amount(text: str, decimal_comma: bool) -> None:
    """The ledger reads amounts straight to cents: same value, same refusals."""
    try:
        expected = to_cents(parse_amount(text, decimal_comma=decimal_comma))
    except ValueError as exc:
        with pytest.raises(ValueError, match=str(exc)):
            parse_cents(text, decimal_comma=decimal_comma)
    else:
        assert parse_cents(text, decimal_comma=decimal_comma) == expected
