"""Money is Decimal in code and integer cents in the store."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

_PLAIN_COMMA = re.compile(r"([0-9]+)(?:,([0-9]{1,2}))?")
_PLAIN_POINT = re.compile(r"([0-9]+)(?:\.([0-9]{1,2}))?")
ZERO = Decimal("0.00")
CENT = Decimal("0.01")


def cents(amount: Decimal) -> Decimal:
    """Quantise to the cent, half up, as French accounting does."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def to_cents(amount: Decimal) -> int:
    """Exact integer cents of an amount that is already to the cent."""
    q = cents(amount)
    if q != amount:
        raise ValueError(f"{amount} has fractions of a cent")
    return int(q * 100)


def from_cents(value: int) -> Decimal:
    return (Decimal(value) / 100).quantize(CENT)


def parse_cents(text: str, *, decimal_comma: bool = True) -> int:
    """``parse_amount`` in integer cents; the plain case without a Decimal."""
    plain = (_PLAIN_COMMA if decimal_comma else _PLAIN_POINT).fullmatch(text)
    if plain:  # 1234,5 -> 123450
        units, fraction = plain.groups()
        return int(units) * 100 + (int(fraction.ljust(2, "0")) if fraction else 0)
    return to_cents(parse_amount(text, decimal_comma=decimal_comma))


def parse_amount(text: str, *, decimal_comma: bool = True) -> Decimal:
    """Parse a ledger amount: decimal comma (or point), sign first or last, padding.

    Raises ValueError with a reason an operator can act on.
    """
    if (_PLAIN_COMMA if decimal_comma else _PLAIN_POINT).fullmatch(text):
        return Decimal(text.replace(",", ".")).quantize(CENT)  # the common case
    s = text.strip().replace("\u00a0", "").replace(" ", "")
    if not s:
        raise ValueError("empty amount")
    negative = False
    if s[0] in "+-":
        negative = s[0] == "-"
        s = s[1:]
    elif s[-1] in "+-":
        negative = s[-1] == "-"
        s = s[:-1]
    if decimal_comma:
        if s.count(",") > 1 or ("," in s and "." in s):
            raise ValueError("not a number with a decimal comma")
        s = s.replace(",", ".")
    if not s or not all(c.isdigit() or c == "." for c in s) or s.count(".") > 1:
        raise ValueError("not a decimal number")
    try:
        value = Decimal(s)
    except InvalidOperation as exc:  # pragma: no cover - guarded above
        raise ValueError("not a decimal number") from exc
    if value != cents(value):
        raise ValueError("more than two decimals")
    return cents(-value if negative else value)
