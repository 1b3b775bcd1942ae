"""The schema of a mappings/*.toml file: every section a pydantic model, no extras."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

NAME = r"^[a-z0-9][a-z0-9_-]*$"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MappingHeader(_Section):
    name: str = Field(pattern=NAME)
    description: str = ""
    reader: Literal["file"]
    format: Literal["ledger"]
    version: Literal[1]


class FileSpec(_Section):
    """How to read the export files."""

    pattern: str = "*"
    encoding: Literal["auto", "utf-8", "iso-8859-15", "cp1252"] = "auto"
    delimiter: Literal["auto", "\t", "|", ";", ","] = "auto"
    decimal_comma: bool = True
    date_formats: tuple[str, ...] = ("%Y%m%d",)


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


class MappingSpec(_Section):
    """A whole mapping file."""

    mapping: MappingHeader
    file: FileSpec = FileSpec()
    ledger: LedgerSpec
