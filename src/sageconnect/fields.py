"""Value types shared by the config and mapping models, each checked once.

``Annotated`` strings that pydantic validates wherever a model uses them, so a
time zone, a codec or an ODBC connection string is checked the same way in
``[companies.X]``, ``[daemon]``, ``[companies.X.writeback]`` and ``[notes]``.
"""

from __future__ import annotations

import codecs
import re
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator

_PASSWORD = re.compile(r"(^|;)\s*(PWD|PASSWORD)\s*=", re.IGNORECASE)


def _time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError("an IANA time zone such as Europe/Paris") from exc
    return value


def _codec(value: str) -> str:
    try:
        codecs.lookup(value)
    except LookupError as exc:
        raise ValueError("a Python codec name such as cp1252 or utf-8") from exc
    return value


def _without_password(value: str) -> str:
    if _PASSWORD.search(value):
        raise ValueError("a connection string without PWD: put it in password")
    return value


TimeZone = Annotated[str, AfterValidator(_time_zone)]
Codec = Annotated[str, AfterValidator(_codec)]
OdbcString = Annotated[str, AfterValidator(_without_password)]
