"""ISO 20022 bank statements: camt.053 (``BkToCstmrStmt/Stmt``) and camt.054
(``BkToCstmrDbtCdtNtfctn/Ntfctn``), any message version.

Parsed with defusedxml and no DTD allowed: a file declaring one (entity bombs,
external entities) is refused whole. Element names are read without their
namespace. An ``Ntry`` gives one BankLine, or one per ``TxDtls`` when it is a
batch; an entry or transaction that cannot be read is a Reject whose line is the
1-based ordinal of the ``Ntry`` in the file, and the rest goes on.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from sageconnect.bank.lines import NOT_PROVIDED, BankLine, Keys, at_least_cents, clean
from sageconnect.errors import SourceUnavailable
from sageconnect.model.records import Reject

CAMT053 = "camt053"
_NAMESPACE = re.compile(r"urn:iso:std:iso:20022:tech:xsd:camt\.05[34]\.")
_STATEMENTS = {"BkToCstmrStmt": "Stmt", "BkToCstmrDbtCdtNtfctn": "Ntfctn"}
_SIGNS = {"CRDT": 1, "DBIT": -1}


class _UnreadableError(ValueError):
    """An element of an entry that cannot be read; becomes a Reject."""

    def __init__(self, field: str, value: str | None, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.value = value
        self.reason = reason


def read_camt053(path: Path) -> Iterator[BankLine | Reject]:
    """Yield each movement of a camt.053 statement (or camt.054 notification)."""
    where = path.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceUnavailable(str(path), exc.strerror or str(exc)) from exc
    root = _parse(where, data)
    if isinstance(root, Reject):
        yield root
        return
    ordinal = 0
    keys = Keys(CAMT053)
    for statement in _statements(root):
        keys.new_statement()
        account = _text(statement, "Acct/Id/IBAN") or _text(
            statement, "Acct/Id/Othr/Id"
        )
        entries = statement.findall("Ntry")
        if not account:
            yield Reject(
                where=where,
                line=ordinal + 1 if entries else None,
                field="Acct/Id",
                reason=(
                    f"statement {_text(statement, 'Id')!r} has no account IBAN or id:"
                    f" its {len(entries)} entries are set aside"
                ),
            )
            ordinal += len(entries)
            continue
        context = _Statement(where, account, _text(statement, "Acct/Ccy"), keys)
        for entry in entries:
            ordinal += 1
            yield from context.entry(ordinal, entry)


def _parse(where: str, data: bytes) -> Element | Reject:
    """The root element with namespaces dropped, or why the file is refused."""
    try:
        root = fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        return Reject(
            where=where,
            field="DOCTYPE",
            reason=(
                f"refused ({type(exc).__name__}): the file declares a DTD or "
                "entities, which could expand into an XML bomb or read other "
                "files; a bank statement has none"
            ),
        )
    except ParseError as exc:
        line, _column = exc.position
        return Reject(where=where, line=line, reason=f"not well-formed XML: {exc}")
    namespace = root.tag[1:].partition("}")[0] if root.tag.startswith("{") else ""
    if namespace and not _NAMESPACE.match(namespace):
        return Reject(
            where=where,
            field="namespace",
            value=namespace,
            reason="not a camt.053 or camt.054 message",
        )
    for element in root.iter():
        element.tag = element.tag.rpartition("}")[2]
    if root.tag != "Document" or not any(c.tag in _STATEMENTS for c in root):
        return Reject(
            where=where,
            field="Document",
            value=root.tag,
            reason="no Document/BkToCstmrStmt or Document/BkToCstmrDbtCdtNtfctn",
        )
    return root


def _statements(root: Element) -> Iterator[Element]:
    for message in root:
        if message.tag in _STATEMENTS:
            yield from message.findall(_STATEMENTS[message.tag])


def _text(element: Element, path: str) -> str:
    return clean(element.findtext(path))


@dataclass(frozen=True, slots=True)
class _Entry:
    """What an Ntry says once, shared by its transactions."""

    ordinal: int
    amount: Decimal
    currency: str
    sign: int
    booked: dt.date
    value_date: dt.date | None
    status: str
    reversal: bool
    bank_ref: str
    label: str


@dataclass(frozen=True, slots=True)
class _Statement:
    """One Stmt or Ntfctn: where its entries come from and how they are keyed."""

    where: str
    account: str
    currency: str
    keys: Keys

    def entry(self, ordinal: int, element: Element) -> Iterator[BankLine | Reject]:
        """The lines of one Ntry: one per TxDtls, or one for the whole entry."""
        try:
            entry = self._read_entry(ordinal, element)
        except _UnreadableError as bad:
            yield self._reject(ordinal, bad)
            return
        details = element.findall("NtryDtls/TxDtls")
        if not details:
            yield self._line(entry, None, entry.amount, entry.currency, entry.sign)
            return
        for tx in details:
            try:
                amount, currency = _amount(
                    tx, "AmtDtls/TxAmt/Amt", "Amt", scope="TxDtls/"
                )
            except _UnreadableError as bad:
                if len(details) > 1 or bad.value is not None:
                    yield self._reject(ordinal, bad)
                    continue
                amount, currency = entry.amount, entry.currency  # the entry's own
            try:
                has_sign = tx.find("CdtDbtInd") is not None
                sign = _sign(tx, scope="TxDtls/") if has_sign else entry.sign
            except _UnreadableError as bad:
                yield self._reject(ordinal, bad)
                continue
            yield self._line(entry, tx, amount, currency, sign)

    def _read_entry(self, ordinal: int, element: Element) -> _Entry:
        amount, currency = _amount(element, "Amt")
        status = _status(element)
        value_date = _date(element, "ValDt")
        booked = _date(element, "BookgDt")
        if booked is None and status == "PDNG":
            booked = value_date  # a pending entry is not booked yet
        if booked is None:
            raise _UnreadableError("BookgDt", None, "entry has no booking date")
        return _Entry(
            ordinal=ordinal,
            amount=amount,
            currency=currency or self.currency or "EUR",
            sign=_sign(element),
            booked=booked,
            value_date=value_date,
            status=status,
            reversal=_text(element, "RvslInd").lower() in {"true", "1"},
            bank_ref=_text(element, "AcctSvcrRef"),
            label=_text(element, "AddtlNtryInf"),
        )

    def _line(
        self,
        entry: _Entry,
        tx: Element | None,
        amount: Decimal,
        currency: str,
        sign: int,
    ) -> BankLine:
        def read(path: str) -> str:
            return "" if tx is None else _text(tx, path)

        def read_all(path: str) -> str:
            texts = [] if tx is None else [clean(e.text) for e in tx.iterfind(path)]
            return " ".join(t for t in texts if t)

        signed = sign * amount
        currency = currency or entry.currency
        e2e = read("Refs/EndToEndId")
        end_to_end_id = "" if e2e == NOT_PROVIDED else e2e
        bank_ref = read("Refs/AcctSvcrRef") or entry.bank_ref
        label = read("AddtlTxInf") or entry.label
        key = self.keys.key(
            account=self.account,
            booked=entry.booked,
            amount=signed,
            currency=currency,
            bank_ref=bank_ref,
            end_to_end_id=end_to_end_id,
            label=label,
            reversal=entry.reversal,
        )
        return BankLine(
            key=key,
            source=self.where,
            line=entry.ordinal,
            account=self.account,
            booked=entry.booked,
            value_date=entry.value_date,
            amount=signed,
            currency=currency,
            payer_name=read("RltdPties/Dbtr/Nm") or read("RltdPties/Dbtr/Pty/Nm"),
            payer_account=read("RltdPties/DbtrAcct/Id/IBAN")
            or read("RltdPties/DbtrAcct/Id/Othr/Id"),
            remittance=read_all("RmtInf/Ustrd"),
            structured_ref=read_all("RmtInf/Strd/CdtrRefInf/Ref"),
            end_to_end_id=end_to_end_id,
            bank_ref=bank_ref,
            label=label,
            booked_status=entry.status,
            reversal=entry.reversal,
        )

    def _reject(self, ordinal: int, bad: _UnreadableError) -> Reject:
        return Reject(
            where=self.where,
            line=ordinal,
            field=bad.field,
            value=bad.value,
            reason=bad.reason,
        )


def _amount(element: Element, *paths: str, scope: str = "") -> tuple[Decimal, str]:
    """The first amount found at ``paths``, and its currency ("" if not given).

    ``scope`` prefixes the field named in a Reject (e.g. ``TxDtls/``).
    """
    for path in paths:
        found = element.find(path)
        if found is None:
            continue
        text = clean(found.text)
        try:
            amount = Decimal(text)
        except InvalidOperation:
            amount = Decimal("NaN")
        if not amount.is_finite() or amount < 0:
            raise _UnreadableError(
                scope + path, text, "amount is not a positive decimal number"
            )
        return at_least_cents(amount), clean(found.get("Ccy")).upper()
    raise _UnreadableError(scope + paths[-1], None, "no amount")


def _sign(element: Element, scope: str = "") -> int:
    indicator = _text(element, "CdtDbtInd")
    if indicator not in _SIGNS:
        raise _UnreadableError(scope + "CdtDbtInd", indicator, "expected CRDT or DBIT")
    return _SIGNS[indicator]


def _status(element: Element) -> str:
    """BOOK, PDNG...: a plain ``Sts`` (version 02) or ``Sts/Cd`` (version 08 on)."""
    status = element.find("Sts")
    if status is None:
        return "BOOK"
    code = clean(status.text) or _text(status, "Cd") or _text(status, "Prtry")
    return code.upper() or "BOOK"


def _date(element: Element, name: str) -> dt.date | None:
    """``name/Dt``, or the date of ``name/DtTm``; None if there is neither."""
    text = _text(element, f"{name}/Dt") or _text(element, f"{name}/DtTm")[:10]
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        raise _UnreadableError(name, text, "not a YYYY-MM-DD date") from None
