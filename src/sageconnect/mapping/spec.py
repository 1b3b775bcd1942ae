"""The schema of a mappings/*.toml file: every section a pydantic model, no extras."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sageconnect.mapping.convert import FieldSpec, field_spec
from sageconnect.mapping.notes import NotesSpec

NAME = r"^[a-z0-9][a-z0-9_-]*$"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MappingHeader(_Section):
    name: str = Field(pattern=NAME)
    description: str = ""
    reader: Literal["file", "odbc"]
    format: Literal["ledger", "entries"]
    version: Literal[1]


class FileSpec(_Section):
    """How to read the export files."""

    pattern: str = "*"
    encoding: Literal["auto", "utf-8", "iso-8859-15", "cp1252"] = "auto"
    delimiter: Literal["auto", "\t", "|", ";", ","] = "auto"
    decimal_comma: bool = True
    date_formats: tuple[str, ...] = ("%Y%m%d",)
    header: bool = True
    columns: tuple[str, ...] = ()  # names of the columns when there is no header line
    quoted: bool = False  # fields may be wrapped in double quotes

    @model_validator(mode="after")
    def _names(self) -> FileSpec:
        if not self.header and not self.columns:
            raise ValueError("a file without header needs columns = [names]")
        return self


class LedgerColumns(_Section):
    """Header names of the ledger columns; the first six are required."""

    journal: str
    entry: str
    date: str
    account: str
    piece: str
    account_name: str | None = None
    aux_account: str | None = None
    aux_name: str | None = None
    piece_date: str | None = None
    label: str | None = None
    lettering: str | None = None
    lettering_date: str | None = None
    currency_amount: str | None = None
    currency: str | None = None
    due: tuple[str, ...] = ()


class AmountSpec(_Section):
    """One way a file may write amounts."""

    as_: Literal["debit_credit", "amount_sense"] = Field(alias="as")
    columns: tuple[str, str]


class LedgerSpec(_Section):
    """How ledger lines become receivables."""

    receivable_accounts: tuple[str, ...] = ("411",)
    sales_accounts: tuple[str, ...] = ("70", "4457")
    cash_accounts: tuple[str, ...] = ("5",)
    sales_journals: tuple[str, ...] = ()
    opening_journals: tuple[str, ...] = ()
    columns: LedgerColumns
    amount: tuple[AmountSpec, ...] = Field(min_length=1)

    @field_validator("receivable_accounts")
    @classmethod
    def _some(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("at least one account prefix")
        return value


FieldRef = str | FieldSpec


class OdbcSpec(_Section):
    """How to read an ODBC source of this system."""

    encoding: str = "utf-8"
    lookback_minutes: int = Field(default=1440, ge=1)
    full_every_hours: int = Field(default=24, ge=1)


class CustomerFields(_Section):
    code: FieldRef
    name: FieldRef
    account: FieldRef | None = None
    email: FieldRef | None = None
    phone: FieldRef | None = None
    siren: FieldRef | None = None
    language: FieldRef | None = None
    credit_limit: FieldRef | None = None
    insured_limit: FieldRef | None = None
    dunning_excluded: FieldRef | None = None
    category: FieldRef | None = None
    consumer: FieldRef | None = None


class ContactFields(_Section):
    key: FieldRef
    customer: FieldRef
    name: FieldRef
    role: FieldRef | None = None
    email: FieldRef | None = None
    phone: FieldRef | None = None


class EntryFields(_Section):
    """A receivable ledger line; ``kind`` says sale, cash, other or opening."""

    key: FieldRef
    customer: FieldRef
    kind: FieldRef
    date: FieldRef
    amount: FieldRef
    journal: FieldRef | None = None
    entry: FieldRef | None = None
    piece: FieldRef | None = None
    issued: FieldRef | None = None
    due: FieldRef | None = None
    label: FieldRef | None = None
    lettering: FieldRef | None = None
    lettered_on: FieldRef | None = None


class StreamSpec(_Section):
    """Where one stream's rows come from: a SQL query (ODBC) or a file name (file).

    A query with a watermark takes the lower bound at each ``?`` (a UNION of
    several tables has one per part).
    """

    query: str | None = Field(default=None, min_length=10)
    file: str | None = None
    watermark: str | None = None

    @model_validator(mode="after")
    def _placeholder(self) -> StreamSpec:
        if (self.query is None) == (self.file is None):
            raise ValueError("exactly one of query (ODBC) or file (file sources)")
        marks = self.query.count("?") if self.query is not None else 0
        if self.query is not None and self.watermark and not marks:
            raise ValueError("a query with a watermark binds it with ? (once per part)")
        if self.query is not None and not self.watermark and marks:
            raise ValueError("a query without watermark takes no ? placeholder")
        return self


class CustomersSpec(StreamSpec):
    fields: CustomerFields


class ContactsSpec(StreamSpec):
    fields: ContactFields


class SettlementFields(_Section):
    key: FieldRef
    invoice: FieldRef
    payment: FieldRef
    amount: FieldRef
    settled_on: FieldRef


class SettlementsSpec(StreamSpec):
    fields: SettlementFields


class EntriesSpec(StreamSpec):
    fields: EntryFields


class TotalsSpec(_Section):
    """A query for ``sageconnect verify``: one row per customer, (code, balance).

    The balance is debit minus credit over every receivable line the mapping
    reads, computed by the source itself (SUM ... GROUP BY), with no ``?``.
    """

    query: str = Field(min_length=1)


AnyStream = CustomersSpec | ContactsSpec | EntriesSpec | SettlementsSpec
KINDS = {"sale", "cash", "other", "opening"}


class MappingSpec(_Section):
    """A whole mapping file."""

    mapping: MappingHeader
    file: FileSpec = FileSpec()
    ledger: LedgerSpec | None = None
    odbc: OdbcSpec = OdbcSpec()
    customers: CustomersSpec | None = None
    contacts: ContactsSpec | None = None
    entries: EntriesSpec | None = None
    settlements: SettlementsSpec | None = None
    totals: TotalsSpec | None = None
    notes: NotesSpec | None = None  # where reminders are written back (odbc)

    @model_validator(mode="after")
    def _sections(self) -> MappingSpec:
        if self.mapping.format == "ledger" and self.ledger is None:
            raise ValueError("format ledger needs a [ledger] section")
        if self.mapping.format == "entries":
            if self.customers is None or self.entries is None:
                raise ValueError("format entries needs [customers] and [entries]")
            source = "query" if self.mapping.reader == "odbc" else "file"
            streams = (
                ("customers", self.customers),
                ("contacts", self.contacts),
                ("entries", self.entries),
                ("settlements", self.settlements),
            )
            for name, stream in streams:
                if stream is not None and getattr(stream, source) is None:
                    raise ValueError(
                        f"[{name}] needs a {source} for a {self.mapping.reader} reader"
                    )
            if self.settlements is not None and self.entries.fields.lettering:
                raise ValueError(
                    "[settlements] and entries lettering would allocate twice: keep one"
                )
            kind = field_spec(self.entries.fields.kind)
            if kind.as_ == "enum" and not set(kind.values.values()) <= KINDS:
                raise ValueError(
                    f"entries.fields.kind values must be among {sorted(KINDS)}"
                )
        return self
