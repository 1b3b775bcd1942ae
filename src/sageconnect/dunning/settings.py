"""The [dunning] section of the configuration: scenarios, rules, channels, rates."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from sageconnect.credentials import Secret

STEP_ID = r"^[a-z][a-z0-9_]{0,31}$"
Money = Annotated[
    Decimal,
    Field(ge=0, max_digits=14, decimal_places=2),
    AfterValidator(lambda v: v.quantize(Decimal("0.01"))),  # 10000.0 -> 10000.00
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Step(_Model):
    """One step of a scenario: when, through which channels, with which words."""

    id: str = Field(pattern=STEP_ID)
    days: int | None = Field(default=None, ge=-60, le=720)  # from the due date
    after_previous: int | None = Field(default=None, ge=1, le=365)
    channels: tuple[Literal["email", "sms", "letter", "call"], ...] = Field(
        min_length=1
    )
    template: str = Field(pattern=STEP_ID)
    tone: Literal["courteous", "reminder", "firm", "formal", "escalation"] = "reminder"
    claim_interest: bool = False
    claim_indemnity: bool = False
    pay_within_days: int | None = Field(default=None, ge=1, le=60)  # the deadline given
    registered: bool = False  # letter: registered with acknowledgment (LRAR)
    # only after an earlier step went out for the invoice: at go-live, an invoice
    # long overdue gets a first reminder, not a formal notice out of the blue
    requires_previous: bool = False

    @model_validator(mode="after")
    def _one_trigger(self) -> Step:
        if (self.days is None) == (self.after_previous is None):
            raise ValueError("exactly one of days or after_previous")
        return self


class Scenario(_Model):
    description: str = ""
    steps: tuple[Step, ...] = Field(min_length=1)

    @field_validator("steps")
    @classmethod
    def _ordered(cls, steps: tuple[Step, ...]) -> tuple[Step, ...]:
        ids = [s.id for s in steps]
        if len(set(ids)) != len(ids):
            raise ValueError("step ids must be unique")
        if steps[0].after_previous is not None:
            raise ValueError("the first step needs days (from the due date)")
        last: int | None = None
        for step in steps:
            if step.days is not None:
                if last is not None and step.days <= last:
                    raise ValueError(
                        "steps with days must come in increasing order of days"
                    )
                last = step.days
        return steps


class Rule(_Model):
    """Customers matching every condition given get ``scenario``; first match wins."""

    scenario: str
    category: tuple[str, ...] = ()
    language: tuple[str, ...] = ()
    risk: tuple[Literal["A", "B", "C", "D"], ...] = ()  # payer grades (scoring)
    min_open: Money | None = None  # the customer's total open amount
    max_open: Money | None = None
    customers: tuple[str, ...] = ()


class SenderConfig(_Model):
    name: str | None = None  # default: the company's name
    email: str = ""
    phone: str = ""
    address: tuple[str, ...] = ()
    siren: str = ""
    signature: str = ""
    iban: str = ""


class RatePeriod(_Model):
    """The ECB main refinancing rate and the legal rate in force from a day."""

    start: dt.date = Field(alias="from")
    ecb: Decimal = Field(ge=0, le=50)
    legal: Decimal = Field(ge=0, le=50)  # taux d'intérêt légal, "autres cas"


class InterestConfig(_Model):
    points: Decimal = Field(default=Decimal(10), ge=0, le=50)  # over the ECB rate
    rates: tuple[RatePeriod, ...] = ()  # added to (and overriding) the shipped table
    by_customer: dict[str, Decimal] = {}  # contractual rates, percent a year
    indemnity: Money = Decimal("40.00")


class SmtpConfig(_Model):
    kind: Literal["smtp"]
    host: str
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    user: str | None = None
    password: Secret | None = None
    timeout: float = Field(default=30, gt=0, le=600)
    from_address: str
    from_name: str = ""
    reply_to: str = ""
    bcc: str = ""


class WebhookConfig(_Model):
    kind: Literal["webhook"]
    url: str = Field(pattern=r"^https?://")
    token: Secret | None = None
    timeout: float = Field(default=30, gt=0, le=600)


class BrevoConfig(_Model):
    kind: Literal["brevo"]
    api_key: Secret
    sender: str = Field(min_length=1, max_length=11)
    url: str = "https://api.brevo.com"
    timeout: float = Field(default=30, gt=0, le=600)


class FolderConfig(_Model):
    kind: Literal["folder"]
    path: str = Field(min_length=1)
    from_address: str = "relances@example.invalid"
    from_name: str = ""


class TasksConfig(_Model):
    kind: Literal["tasks"]
    path: str = Field(min_length=1)


ChannelConfig = Annotated[
    SmtpConfig | WebhookConfig | BrevoConfig | FolderConfig | TasksConfig,
    Field(discriminator="kind"),
]


class DunningConfig(_Model):
    """Everything about reminders, shared by the companies that do not opt out."""

    default_scenario: str = "standard"
    scenarios: dict[Annotated[str, Field(pattern=STEP_ID)], Scenario]
    rules: tuple[Rule, ...] = ()
    by_customer: dict[str, str] = {}  # customer code -> scenario (wins over rules)
    tolerance: Money = Decimal("5.00")  # below this open amount, nobody is chased
    freshness_hours: int = Field(default=26, ge=1, le=24 * 14)
    lease_minutes: int = Field(default=15, ge=1, le=24 * 60)
    min_days_between_steps: int = Field(default=7, ge=0, le=90)  # per invoice
    min_days_between_messages: int = Field(default=3, ge=0, le=90)  # per customer
    templates_dir: str | None = None
    pauses_folder: str | None = None
    sender: SenderConfig = SenderConfig()
    interest: InterestConfig = InterestConfig()
    channels: dict[Literal["email", "sms", "letter", "call"], ChannelConfig] = Field(
        min_length=1
    )

    @model_validator(mode="after")
    def _references(self) -> DunningConfig:
        names = set(self.scenarios)
        wanted = {self.default_scenario, *(r.scenario for r in self.rules)}
        wanted |= set(self.by_customer.values())
        unknown = sorted(wanted - names)
        if unknown:
            have = ", ".join(sorted(names))
            raise ValueError(f"scenario {unknown[0]!r} is not defined (have: {have})")
        used = {c for s in self.scenarios.values() for x in s.steps for c in x.channels}
        missing = sorted(used - set(self.channels))
        if missing:
            raise ValueError(
                f"a [dunning.channels.{missing[0]}] section for the steps that use it"
            )
        slowest = max(
            (getattr(c, "timeout", 0.0) for c in self.channels.values()), default=0.0
        )
        if self.lease_minutes * 60 < 2 * slowest:
            # a send still running when its lease ends is reported uncertain, and
            # someone may then resolve it --not-sent while it is in flight
            raise ValueError(
                f"lease_minutes = {self.lease_minutes}: at least twice the slowest"
                f" channel timeout ({slowest:g} s)"
            )
        return self
