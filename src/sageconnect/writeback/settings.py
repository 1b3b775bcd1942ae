"""A company's [companies.<code>.writeback] table: where notes go, and how often
a failed write is tried again."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sageconnect.credentials import Secret
from sageconnect.fields import Codec, OdbcString

WRITER = r"^[a-z0-9][a-z0-9_-]*$"


class WritebackConfig(BaseModel):
    """Write each reminder sent back into the accounting system as a note.

    ``writer``: ``odbc`` (the mapping's ``[notes]`` SQL, through the company's
    ODBC source or the connection given here), ``file`` (a daily CSV in
    ``folder``) or the name of a plug-in (entry point ``sageconnect.note_writers``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    writer: str = Field(default="odbc", pattern=WRITER)
    entries: bool = False  # also set the step and date on each invoice's entry
    # which events get a note: sent, and failed (refused for good: a bad address
    # the customer record in Sage should fix)
    outcomes: tuple[Literal["sent", "failed"], ...] = ("sent",)
    since: dt.date | None = None  # reminders sent before this day get no note
    folder: str | None = None  # file writer: where the daily files go
    encoding: Literal["cp1252", "utf-8", "iso-8859-15"] = "cp1252"  # file writer
    length: int | None = Field(default=None, ge=20, le=4000)  # file writer: cut text
    # odbc writer: another connection than the source's (e.g. the SQL edition
    # directly, on a table the integrator approved); default: the source's
    dsn: str | None = None
    connection_string: OdbcString | None = None
    user: str | None = None
    password: Secret | None = None
    connection_encoding: Codec | None = (
        None  # default: the source's, else the mapping's
    )
    retry_minutes: int = Field(default=5, ge=1, le=24 * 60)  # doubled per failure
    max_retry_hours: int = Field(default=6, ge=1, le=7 * 24)  # the longest wait
    lease_minutes: int = Field(default=10, ge=1, le=24 * 60)
    options: dict[str, str] = {}  # handed to a plug-in writer as they are

    @field_validator("outcomes")
    @classmethod
    def _some(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value or len(set(value)) != len(value):
            raise ValueError("sent and/or failed, each once")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> WritebackConfig:
        if self.dsn and self.connection_string:
            raise ValueError("at most one of dsn or connection_string")
        if (self.user or self.password) and not (self.dsn or self.connection_string):
            raise ValueError(
                "user and password go with dsn or connection_string (without them"
                " notes go through the source's connection, with its login)"
            )
        if self.writer == "file" and not self.folder:
            raise ValueError('writer = "file" needs folder = "<where the files go>"')
        if self.entries and self.writer != "odbc":
            raise ValueError(
                'entries = true needs writer = "odbc" (the mapping\'s [notes.entries])'
            )
        return self

    def own_connection(self) -> str | None:
        """The writer's own connection string (no password), if one is given."""
        if not (self.dsn or self.connection_string):
            return None
        base = f"DSN={self.dsn}" if self.dsn else str(self.connection_string)
        return f"{base.rstrip(';')};UID={self.user}" if self.user else base
