"""The header and address checks the channels and the configuration share.

Kept apart from ``smtp`` so that validating the configuration (a report's
``from_address``, its recipients) does not load smtplib, ssl and the channels.
"""

from __future__ import annotations

import unicodedata
from email.errors import HeaderParseError
from email.headerregistry import Address

_UNSAFE_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})  # controls, line/paragraph seps


class InvalidMessageError(ValueError):
    """The message cannot be sent as it is; found before any connection."""


def has_control(value: str) -> bool:
    """True when ``value`` holds a line break, NUL or another control character.

    A tab is allowed (it is folding white space in a header).
    """
    return any(
        c != "\t" and unicodedata.category(c) in _UNSAFE_CATEGORIES for c in value
    )


def check_header(value: str, what: str) -> None:
    if has_control(value):
        raise InvalidMessageError(f"{what} contains a line break or control character")


def mailbox(value: str, what: str, display_name: str = "") -> Address:
    """A validated address: ASCII local part, IDNA domain, no control character."""
    check_header(value, what)
    check_header(display_name, f"{what} name")
    try:
        parsed = Address(addr_spec=value.strip())
        domain = parsed.domain.encode("idna").decode("ascii")
    except (ValueError, IndexError, HeaderParseError) as exc:
        # ValueError covers the parser's defects and IDNA's UnicodeError.
        raise InvalidMessageError(f"{what} is not a valid e-mail address") from exc
    if not parsed.username or not parsed.username.isascii() or "." not in domain:
        raise InvalidMessageError(f"{what} is not a valid e-mail address")
    return Address(display_name=display_name, username=parsed.username, domain=domain)
