"""The [reports] section: aged-balance buckets, the DSO period, the forecast, the
priority list, the HTML report file and its e-mail to the finance director."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sageconnect.credit.settings import SmtpTarget
from sageconnect.dunning.channels.checks import mailbox

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReportMail(SmtpTarget):
    """Where and when the HTML report is e-mailed (SMTP settings as [credit.notify])."""

    kind: Literal["smtp"] = "smtp"
    days: tuple[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"], ...] = (
        "mon",
    )
    at: dt.time = dt.time(8, 0)  # local time of the company
    # a slot missed by more than this (the daemon was down) is not sent late
    grace_hours: int = Field(default=12, ge=1, le=168)

    @field_validator("from_address")
    @classmethod
    def _sender(cls, value: str) -> str:
        mailbox(value, "from_address")  # checked now, not at the first slot
        return value

    @field_validator("to")
    @classmethod
    def _recipients(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for address in value:
            mailbox(address, "an address in to")
        return value

    @field_validator("days")
    @classmethod
    def _some(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value or len(set(value)) != len(value):
            raise ValueError("distinct weekdays, at least one (mon ... sun)")
        return value


class ReportsConfig(_Model):
    """How the receivables KPIs are computed and where the HTML report goes."""

    # aged balance: not due, then 1-30, 31-60, 61-90, over 90 days overdue
    buckets: tuple[int, ...] = (30, 60, 90)
    dso_months: int = Field(default=3, ge=1, le=24)  # the DSO and CEI period
    forecast_weeks: int = Field(default=13, ge=1, le=52)
    default_lag_days: int = Field(default=0, ge=0, le=365)  # payers without history
    doubtful_after_days: int = Field(default=90, ge=1, le=3650)
    priority_size: int = Field(default=20, ge=1, le=1000)
    deadline_days: int = Field(default=14, ge=0, le=365)  # insurer deadline: first
    history_days: int = Field(default=365, ge=7, le=3650)  # DSO trend drawn
    html: str | None = None  # e.g. "var/report-{company}.html", rewritten each cycle
    # who may read it: "0640" owner and group (the finance team's group), "0600" owner
    html_mode: str = Field(default="0640", pattern=r"^0?[0-7]{3}$")
    mail: ReportMail | None = None

    @field_validator("buckets")
    @classmethod
    def _ascending(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value or any(d <= 0 for d in value) or list(value) != sorted(set(value)):
            raise ValueError("ascending positive numbers of days, e.g. [30, 60, 90]")
        return value
