"""The [credit] section: insurance policies, thresholds, where alerts go."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from sageconnect.credentials import Secret

Money = Annotated[
    Decimal,
    Field(ge=0, max_digits=14, decimal_places=2),
    AfterValidator(lambda v: v.quantize(Decimal("0.01"))),  # 10000.0 -> 10000.00
]
NAME = r"^[a-z][a-z0-9_-]{0,31}$"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Policy(_Model):
    """A credit-insurance policy's rules, as its contract states them."""

    insurer: str = Field(min_length=1)  # "Allianz Trade", "Coface", "Atradius"...
    number: str = ""  # the policy number, printed in alerts
    max_credit_days: int = Field(default=120, ge=1, le=720)  # invoice date -> due
    extension_days: int = Field(default=0, ge=0, le=365)  # deferral allowed (MEP)
    declaration_days: int = Field(default=30, ge=1, le=365)
    # the declaration deadline runs from the due date, or from the end of the
    # extension period (Atradius: MEP end + 30 days)
    declaration_from: Literal["due", "extension_end"] = "due"
    warn_days: tuple[int, ...] = (7, 3)  # alerts this many days before the deadline
    stop_delivery_days: int | None = Field(default=60, ge=1, le=365)
    dispute_suspends_cover: bool = True
    non_denomme: Money = Decimal("0.00")  # buyers under this need no named limit

    @field_validator("warn_days")
    @classmethod
    def _descending(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(d <= 0 for d in value) or len(set(value)) != len(value):
            raise ValueError("distinct positive numbers of days")
        return tuple(sorted(value, reverse=True))

    def declaration_deadline(self, due: dt.date) -> dt.date:
        """The last day to declare an invoice due on ``due`` unpaid to the insurer."""
        start = due
        if self.declaration_from == "extension_end":
            start += dt.timedelta(days=self.extension_days)
        return start + dt.timedelta(days=self.declaration_days)


class SmtpTarget(_Model):
    kind: Literal["smtp"]
    host: str
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    user: str | None = None
    password: Secret | None = None
    timeout: float = Field(default=30, gt=0, le=600)
    from_address: str
    to: tuple[str, ...] = Field(min_length=1)  # the credit manager(s)


class WebhookTarget(_Model):
    kind: Literal["webhook"]
    url: str = Field(pattern=r"^https?://")
    token: Secret | None = None
    timeout: float = Field(default=30, gt=0, le=600)


class FolderTarget(_Model):
    kind: Literal["folder"]
    path: str = Field(min_length=1)


Target = Annotated[
    SmtpTarget | WebhookTarget | FolderTarget, Field(discriminator="kind")
]


class CreditConfig(_Model):
    """Credit limits, insurance covers and the alerts they raise."""

    policies: dict[Annotated[str, Field(pattern=NAME)], Policy] = {}
    warning_share: Decimal = Field(default=Decimal("0.80"), gt=0, lt=1)
    limit_expiry_days: int = Field(default=30, ge=1, le=365)
    uninsured_threshold: Money | None = None  # exposure without cover worth a word
    prescription_warning_days: int = Field(default=180, ge=1, le=1000)
    covers_folder: str | None = None  # insurer exports (CSV or JSON) dropped here
    notify: dict[Annotated[str, Field(pattern=NAME)], Target] = {}
