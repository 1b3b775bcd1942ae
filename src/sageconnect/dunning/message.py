"""What a reminder says (Notice), how it reads (Rendered), what leaves (Outgoing).

The planner produces Notices from data and a date; templates render them;
a Channel delivers the Outgoing message once and says how it went (Delivery).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal, Protocol

Tone = Literal["courteous", "reminder", "firm", "formal", "escalation"]
ChannelKind = Literal["email", "sms", "letter", "call"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Sender:
    """The creditor company, as it signs its reminders."""

    name: str
    email: str = ""
    phone: str = ""
    address: tuple[str, ...] = ()  # postal address lines
    siren: str = ""
    signature: str = ""  # e.g. "Service comptabilité clients"
    iban: str = ""  # where to pay, printed on reminders when given


@dataclass(frozen=True, slots=True, kw_only=True)
class Line:
    """One overdue (or soon due) invoice in a reminder, net of what settled it."""

    number: str
    issued: dt.date
    due: dt.date
    amount: Decimal  # the invoice's amount (TTC)
    open: Decimal  # what is still owed on it (after partial payments, credit notes)
    days_overdue: int  # 0 when not yet due
    interest: Decimal = Decimal("0.00")  # late-payment interest to date
    indemnity: Decimal = Decimal("0.00")  # the EUR 40 recovery indemnity, or 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Notice:
    """One reminder to one customer at one step: everything a template may say."""

    key: str  # idempotency key
    company: str  # company code
    sender: Sender
    customer: str  # customer code
    customer_name: str
    contact_name: str  # whom to address ("" = the company itself)
    language: str  # "fr" or "en"
    scenario: str
    step: str  # step id, e.g. "first_reminder"
    template: str  # template name, e.g. "first_reminder"
    tone: Tone
    channel: ChannelKind
    as_of: dt.date
    lines: tuple[Line, ...]
    total_open: Decimal
    total_interest: Decimal
    total_indemnity: Decimal
    total_claimed: Decimal  # open + interest + indemnity claimed
    claim_interest: bool
    claim_indemnity: bool
    interest_rate: Decimal | None = None  # annual rate in percent, when claimed
    pay_by: dt.date | None = None  # deadline given (formal notice)
    currency: str = "EUR"


@dataclass(frozen=True, slots=True, kw_only=True)
class Rendered:
    """A notice rendered for its channel."""

    subject: str = ""
    text: str = ""  # plain-text body (email), SMS text, call-task text
    html: str = ""  # HTML body (email)
    pdf: bytes = b""  # the letter (letter channel, formal notice attached to email)


@dataclass(frozen=True, slots=True, kw_only=True)
class Recipient:
    name: str
    email: str = ""
    phone: str = ""
    address: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Outgoing:
    """A message ready to leave: one recipient, one channel, one key."""

    key: str
    channel: ChannelKind
    company: str
    customer: str
    recipient: Recipient
    rendered: Rendered
    attachments: tuple[tuple[str, str, bytes], ...] = ()  # (file name, MIME type, data)
    registered: bool = False  # letter: registered with acknowledgment (LRAR)


DeliveryStatus = Literal["sent", "retry", "uncertain", "failed"]


@dataclass(frozen=True, slots=True)
class Delivery:
    """How one attempt went.

    ``sent``: the peer accepted it. ``retry``: provably nothing left (refused
    before the message was handed over): send again next cycle. ``uncertain``:
    it may have left (timeout or drop after handing it over): never resent
    automatically. ``failed``: refused for good (bad address, 4xx on the data).
    """

    status: DeliveryStatus
    provider_ref: str = ""
    detail: str = ""  # a code or status line, never the message body
    extra: dict[str, str] = field(default_factory=dict)


class Channel(Protocol):
    """Delivers an Outgoing message once. Never retries by itself."""

    kind: ChannelKind

    def send(self, message: Outgoing) -> Delivery: ...
