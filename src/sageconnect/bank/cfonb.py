"""CFONB 120 bank statements ("relevé de compte 120 caractères").

Fixed 120-character records, Latin-1: ``01`` old balance, ``04`` movement,
``05`` complements of the 04 before them (payer name, remittance text, end-to-end
id...), ``07`` new balance. Files come with CR LF, LF or no line ends at all
(then they are cut every 120 characters). The remittance text is the LIB, LCC
and LC2 zones joined by a space, except that an LC2 right after an LCC or LC2
goes on with it unseparated: banks cut SEPA's 140-character text blindly into
two 70-character zones, sometimes inside a word. A record that cannot be read is a
Reject naming its line and field, and the rest of the file goes on; a 04 set
aside takes its 05s with it.
"""

from __future__ import annotations

import codecs
import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from sageconnect.bank.lines import NOT_PROVIDED, BankLine, Keys, at_least_cents, clean
from sageconnect.errors import SourceUnavailable
from sageconnect.model.records import Reject

CFONB120 = "cfonb120"
WIDTH = 120
_NEWLINE = re.compile(r"\r\n|\r|\n")
_DIGITS = re.compile(r"[0-9]+")
_CURRENCY = re.compile(r"[A-Za-z]{3}")
_POSITIVE = "{ABCDEFGHI"  # overpunched last digit 0..9 of a positive amount
_NEGATIVE = "}JKLMNOPQR"  # ... and of a negative one
# Editors and file transfers trim trailing blanks: a record may stop early, as
# long as it still holds its last meaningful zone (the amount; a 05's qualifier).
_SHORTEST = {"01": 104, "04": 104, "05": 48, "07": 104}
_REMITTANCE = ("LIB", "LCC", "LC2")
_CONTINUED = ("LCC", "LC2")  # SEPA's 140-character text, cut in two 70-character zones
_DATE_FORMAT = "a JJMMAA date"


def read_cfonb120(path: Path) -> Iterator[BankLine | Reject]:
    """Yield each movement (04 with its 05s) of a CFONB 120 file, or a Reject."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceUnavailable(str(path), exc.strerror or str(exc)) from exc
    reader = _Reader(path.name)
    for item in _records(path.name, _decode(data)):
        if isinstance(item, Reject):
            yield item
            return
        yield from reader.feed(*item)
    yield from reader.flush()


def _decode(data: bytes) -> str:
    """Latin-1, as banks write CFONB; UTF-8 if a byte order mark says so."""
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[len(codecs.BOM_UTF8) :].decode("utf-8")
        except UnicodeDecodeError:
            return data[len(codecs.BOM_UTF8) :].decode("latin-1")
    return data.decode("latin-1")


def _records(where: str, text: str) -> Iterator[tuple[int, str] | Reject]:
    """(record number, text) of each record: lines, or 120-character chunks."""
    body = text.rstrip("\r\n\x1a")  # a last line end, a DOS end-of-file mark
    if "\n" in body or "\r" in body:
        yield from enumerate(_NEWLINE.split(body), start=1)
        return
    if len(body) % WIDTH:
        yield Reject(
            where=where,
            field="length",
            value=str(len(body)),
            reason=(
                f"no line ends and {len(body)} characters: not a whole number "
                f"of {WIDTH}-character records"
            ),
        )
        return
    for start in range(0, len(body), WIDTH):
        yield start // WIDTH + 1, body[start : start + WIDTH]


def _zone(record: str, first: int, last: int) -> str:
    """Positions ``first`` to ``last`` (1-based, inclusive) as the CFONB spec counts."""
    return record[first - 1 : last]


@dataclass(slots=True)
class _Movement:
    """A 04 record read, waiting for the 05 records that complete it."""

    line: int
    bank: str
    desk: str
    account: str
    currency: str
    booked: dt.date
    value_date: dt.date | None
    amount: Decimal
    label: str
    bank_ref: str
    names: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    structured: list[str] = field(default_factory=list)
    end_to_end_id: str = ""
    payer_account: str = ""
    continued: bool = False  # the last 05 was an LCC or LC2: an LC2 goes on with it

    def add(self, qualifier: str, info: str) -> None:
        """Attach the information of one 05 record."""
        if qualifier == "NPY":
            self.names.append(info)
        elif qualifier == "LC2" and self.continued:
            self.texts[-1] += info  # the next 70 characters of the same text
        elif qualifier in _REMITTANCE:
            self.texts.append(info)
        elif qualifier == "LCS":
            self.structured.append(info)
        elif qualifier == "RCN" and not self.end_to_end_id:
            e2e = clean(info[:35])
            self.end_to_end_id = "" if e2e == NOT_PROVIDED else e2e
        elif qualifier == "CPY" and not self.payer_account:
            self.payer_account = info[:34].replace(" ", "")
        self.continued = qualifier in _CONTINUED

    def bank_line(self, source: str, keys: Keys) -> BankLine:
        names = [clean(t) for t in self.names]
        texts = [clean(t) for t in self.texts]
        refs = [clean(t) for t in self.structured]
        key = keys.key(
            account=f"{self.bank}{self.desk}{self.account}",
            booked=self.booked,
            amount=self.amount,
            currency=self.currency,
            bank_ref=self.bank_ref,
            end_to_end_id=self.end_to_end_id,
            label=self.label,
            reversal=False,
        )
        return BankLine(
            key=key,
            source=source,
            line=self.line,
            account=self.account,
            booked=self.booked,
            value_date=self.value_date,
            amount=self.amount,
            currency=self.currency,
            payer_name=" ".join(t for t in names if t),
            payer_account=self.payer_account,
            remittance=" ".join(t for t in texts if t),
            structured_ref=" ".join(t for t in refs if t),
            end_to_end_id=self.end_to_end_id,
            bank_ref=self.bank_ref,
            label=self.label,
        )


class _Reader:
    """Walks the records of one file, attaching 05s to the 04 before them."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.keys = Keys(CFONB120)
        self.pending: _Movement | None = None
        self.skipping = False  # the last 04 was set aside: so are its 05s

    def feed(self, number: int, raw: str) -> Iterator[BankLine | Reject]:
        if not raw.strip():
            return
        record = raw.rstrip(" ")
        code = record[:2]
        problem = self._check(number, code, record)
        if code == "05":
            yield from self._complement(number, record, problem)
            return
        yield from self.flush()
        if problem is not None:
            self.skipping = code == "04"
            yield problem
        elif code == "01":
            self.keys.new_statement()
        elif code == "04":
            movement = _movement(self.where, number, record.ljust(WIDTH))
            if isinstance(movement, Reject):
                self.skipping = True
                yield movement
            else:
                self.pending = movement

    def flush(self) -> Iterator[BankLine]:
        """Hand out the movement waiting for its 05s, if any."""
        if self.pending is not None:
            yield self.pending.bank_line(self.where, self.keys)
        self.pending = None
        self.skipping = False

    def _complement(
        self, number: int, record: str, problem: Reject | None
    ) -> Iterator[Reject]:
        if problem is not None:
            yield problem
        elif self.pending is not None:
            padded = record.ljust(WIDTH)
            self.pending.add(_zone(padded, 46, 48), _zone(padded, 49, 118))
        elif not self.skipping:
            yield Reject(
                where=self.where,
                line=number,
                field="record",
                value=record,
                reason="a 05 complement with no 04 movement before it",
            )

    def _check(self, number: int, code: str, record: str) -> Reject | None:
        """A Reject if the record code is unknown or the length is wrong."""
        reason = None
        if code not in _SHORTEST:
            return Reject(
                where=self.where,
                line=number,
                field="record_code",
                value=code,
                reason="unknown record code: expected 01, 04, 05 or 07",
            )
        if len(record) > WIDTH:
            reason = f"{len(record)} characters: a record has {WIDTH}"
        elif len(record) < _SHORTEST[code]:
            reason = f"record cut short at {len(record)} characters of {WIDTH}"
        if reason is None:
            return None
        return Reject(
            where=self.where, line=number, field="length", value=record, reason=reason
        )


class _BadZoneError(ValueError):
    """A zone of a 04 record that cannot be read; becomes a Reject."""

    def __init__(self, name: str, first: int, last: int, reason: str) -> None:
        super().__init__(reason)
        self.name, self.first, self.last, self.reason = name, first, last, reason


def _movement(where: str, number: int, record: str) -> _Movement | Reject:
    """Read a 04 record, or say which zone is wrong."""
    try:
        return _read_movement(number, record)
    except _BadZoneError as bad:
        return Reject(
            where=where,
            line=number,
            field=bad.name,
            value=_zone(record, bad.first, bad.last),
            reason=bad.reason,
        )


def _read_movement(number: int, record: str) -> _Movement:
    decimals_zone = _zone(record, 20, 20)
    if decimals_zone != " " and not _DIGITS.fullmatch(decimals_zone):
        raise _BadZoneError("decimals", 20, 20, "number of decimals is not a digit")
    decimals = 2 if decimals_zone == " " else int(decimals_zone)
    currency = _zone(record, 17, 19).strip() or "EUR"
    if not _CURRENCY.fullmatch(currency):
        raise _BadZoneError("currency", 17, 19, "currency is not a 3-letter code")
    account = _zone(record, 22, 32).strip()
    if not account:
        raise _BadZoneError("account", 22, 32, "no account number")
    booked = _date(_zone(record, 35, 40))
    if booked is None:
        raise _BadZoneError("booked", 35, 40, f"operation date is not {_DATE_FORMAT}")
    value_zone = _zone(record, 43, 48)
    value_date = _date(value_zone) if value_zone.strip() else None
    if value_zone.strip() and value_date is None:
        raise _BadZoneError("value_date", 43, 48, f"value date is not {_DATE_FORMAT}")
    try:
        amount = parse_cfonb_amount(_zone(record, 91, 104), decimals)
    except ValueError as exc:
        raise _BadZoneError("amount", 91, 104, str(exc)) from None
    return _Movement(
        line=number,
        bank=_zone(record, 3, 7).strip(),
        desk=_zone(record, 12, 16).strip(),
        account=account,
        currency=currency.upper(),
        booked=booked,
        value_date=value_date,
        amount=amount,
        label=_zone(record, 49, 79),
        bank_ref=_zone(record, 82, 88),
    )


def _date(text: str) -> dt.date | None:
    """A JJMMAA date (years 2000 to 2099), or None if it is not one."""
    if not _DIGITS.fullmatch(text) or len(text) != 6:  # noqa: PLR2004 - JJMMAA
        return None
    try:
        return dt.date(2000 + int(text[4:6]), int(text[2:4]), int(text[0:2]))
    except ValueError:
        return None


def parse_cfonb_amount(text: str, decimals: int) -> Decimal:
    """13 digits and an overpunched last digit carrying the sign, scaled.

    ``{``, ``A``..``I`` end a positive amount with 0..9; ``}``, ``J``..``R`` a
    negative one. Raises ValueError with a reason an operator can act on.
    """
    digits, last = text[:-1], text[-1:]
    if len(digits) != 13 or not _DIGITS.fullmatch(digits):  # noqa: PLR2004
        raise ValueError("amount is not 13 digits followed by a sign character")
    if last and last in _POSITIVE:
        units = int(digits) * 10 + _POSITIVE.index(last)
    elif last and last in _NEGATIVE:
        units = -(int(digits) * 10 + _NEGATIVE.index(last))
    else:
        raise ValueError(
            f"amount ends with {last!r}, not a CFONB sign character "
            "({ or A-I for a credit, } or J-R for a debit)"
        )
    return at_least_cents(Decimal(units).scaleb(-decimals))
