"""E-mail reminders over SMTP, one explicit protocol phase at a time.

``smtplib.SMTP.sendmail`` hides where a failure happened. Here each phase
(connect, EHLO, STARTTLS, AUTH, MAIL, RCPT, DATA, body) is driven explicitly,
so the outcome says whether the message may have left (RELIABILITY.md §1.2,
RFC 1047): a failure before the body was handed over is ``retry`` (``failed``
for a mailbox refused for good); a drop or timeout after the body is
``uncertain``, never retried.

The message is built only with ``email.message.EmailMessage`` (default policy):
every header value is checked for line breaks and control characters first, so
header injection is refused here whatever the CPython patch level.

This module also holds the checks the other channels share (key, logging of a
delivery); the header and address checks are in ``checks`` (the config uses
them too, without loading smtplib).
"""

from __future__ import annotations

import re
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Literal

from pydantic import SecretStr

from sageconnect import logs
from sageconnect.clock import PARIS, SystemClock
from sageconnect.dunning.channels.checks import (
    InvalidMessageError,
    check_header,
    has_control,
    mailbox,
)
from sageconnect.dunning.message import ChannelKind, Delivery, DeliveryStatus, Outgoing

Security = Literal["starttls", "ssl", "none"]
Now = Callable[[], datetime]

_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")
_HOSTNAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)*")
_MIME_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*")
_DETAIL_MAX = 200
_MAX_PORT = 65535

# SMTP reply codes the conversation checks.
_SERVICE_READY = 220
_OK = 250
_WILL_FORWARD = 251
_START_INPUT = 354
_PERMANENT = 500
_BODY_OUTCOME: dict[int, DeliveryStatus] = {2: "sent", 4: "retry", 5: "failed"}
_QUIT_TIMEOUT = 5.0


# --- checks shared by the channels ------------------------------------------


def valid_key(key: str) -> bool:
    """An idempotency key usable in a Message-ID, a file name and a header."""
    return _KEY.fullmatch(key) is not None


def clean_detail(text: str) -> str:
    """One short line for ``Delivery.detail``: no line break, no e-mail address."""
    flat = " ".join(text.split())
    return logs.scrub(flat)[:_DETAIL_MAX]


def secret_value(value: SecretStr | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    return value


def log_delivery(channel: str, message: Outgoing, delivery: Delivery) -> Delivery:
    """Log one ``channel_delivery`` event (ids and status only) and return it."""
    log = logs.get()
    emit = log.info if delivery.status == "sent" else log.warning
    emit(
        "channel_delivery",
        channel=channel,
        kind=message.channel,
        company=message.company,
        customer=message.customer,
        key=message.key,
        status=delivery.status,
        detail=delivery.detail,
        provider_ref=delivery.provider_ref,
    )
    return delivery


def wrong_message(message: Outgoing, kind: ChannelKind) -> Delivery | None:
    """A ``failed`` Delivery when the message cannot go through this channel."""
    if message.channel != kind:
        return Delivery(
            "failed", detail=f"a {message.channel} message on the {kind} channel"
        )
    if not valid_key(message.key):
        return Delivery("failed", detail="idempotency key has unexpected characters")
    return None


# --- settings ----------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SmtpSettings:
    """How to reach the outgoing mail server and how reminders are signed.

    ``password`` may be a ``SecretStr`` (``credentials.Secret`` in the config)
    or a plain string; it is never shown by ``repr``. ``bcc`` (e.g. the credit
    manager, several separated by commas) goes in the envelope only, never in a
    header.
    """

    host: str
    port: int = 587
    security: Security = "starttls"
    user: str | None = None
    password: SecretStr | str | None = field(default=None, repr=False)
    timeout: float = 30
    from_address: str
    from_name: str = ""
    reply_to: str = ""
    bcc: str = ""
    helo: str | None = None
    message_id_domain: str | None = None

    def __post_init__(self) -> None:
        if self.security not in ("starttls", "ssl", "none"):
            raise ValueError("security must be starttls, ssl or none")
        if not 0 < self.port <= _MAX_PORT:
            raise ValueError("port must be between 1 and 65535")
        if self.timeout <= 0:
            raise ValueError("timeout must be positive")
        if has_control(self.host) or has_control(self.user or ""):
            raise ValueError("host and user must not contain control characters")
        if has_control(secret_value(self.password)):
            raise ValueError("password must not contain control characters")
        if self.helo is not None and not _HOSTNAME.fullmatch(self.helo):
            raise ValueError("helo must be a host name")
        if self.message_id_domain is not None and not _HOSTNAME.fullmatch(
            self.message_id_domain
        ):
            raise ValueError("message_id_domain must be a domain name")
        try:
            mailbox(self.from_address, "from_address")
            if self.reply_to:
                mailbox(self.reply_to, "reply_to")
            bcc_addresses(self.bcc)
            check_header(self.from_name, "from_name")
        except InvalidMessageError as exc:
            raise ValueError(str(exc)) from exc


def bcc_addresses(bcc: str) -> list[str]:
    parts = [part.strip() for part in bcc.split(",") if part.strip()]
    return [mailbox(part, "bcc").addr_spec for part in parts]


# --- the message -------------------------------------------------------------


def build_email(
    message: Outgoing, settings: SmtpSettings, when: datetime
) -> EmailMessage:
    """The e-mail for ``message``, exactly as the SMTP channel sends it.

    Raises InvalidMessageError (detail without personal data) when a header
    would carry a line break or the recipient's address is not valid.
    """
    return _compose(message, settings, when)[0]


def email_bytes(mail: EmailMessage) -> bytes:
    """The message as it goes on the wire (CRLF line ends, 7-bit)."""
    try:
        return mail.as_bytes(policy=mail.policy.clone(linesep="\r\n"))
    except (ValueError, TypeError) as exc:
        raise InvalidMessageError(
            f"message not encodable ({type(exc).__name__})"
        ) from exc


def _compose(
    message: Outgoing, settings: SmtpSettings, when: datetime
) -> tuple[EmailMessage, str]:
    if not valid_key(message.key):
        raise InvalidMessageError("idempotency key has unexpected characters")
    rendered = message.rendered
    check_header(message.recipient.name, "recipient name")
    to = mailbox(message.recipient.email, "recipient address", message.recipient.name)
    check_header(rendered.subject, "subject")
    if not rendered.text and not rendered.html:
        raise InvalidMessageError("the message has no body")
    for name, mime, _ in message.attachments:
        maintype, _, subtype = mime.partition("/")
        if not (_MIME_TOKEN.fullmatch(maintype) and _MIME_TOKEN.fullmatch(subtype)):
            raise InvalidMessageError("attachment has an invalid MIME type")
        check_header(name, "attachment name")
    sender = mailbox(settings.from_address, "from_address", settings.from_name)
    try:
        mail = _assemble(message, settings, sender, to, when)
    except (ValueError, TypeError) as exc:  # e.g. text the codecs refuse
        raise InvalidMessageError(
            f"message not buildable ({type(exc).__name__})"
        ) from exc
    return mail, to.addr_spec


def _assemble(
    message: Outgoing,
    settings: SmtpSettings,
    sender: Address,
    to: Address,
    when: datetime,
) -> EmailMessage:
    rendered = message.rendered
    mail = EmailMessage()
    mail["From"] = str(sender)
    mail["To"] = str(to)
    if settings.reply_to:
        mail["Reply-To"] = str(mailbox(settings.reply_to, "reply_to"))
    if rendered.subject:
        mail["Subject"] = rendered.subject
    mail["Date"] = format_datetime(when.astimezone(PARIS))
    domain = settings.message_id_domain or sender.domain
    mail["Message-ID"] = f"<{message.key}@{domain}>"
    # Quoted-printable keeps the body 7-bit: no reliance on 8BITMIME.
    if rendered.text:
        mail.set_content(rendered.text, cte="quoted-printable")
        if rendered.html:
            mail.add_alternative(rendered.html, subtype="html", cte="quoted-printable")
    else:
        mail.set_content(rendered.html, subtype="html", cte="quoted-printable")
    for name, mime, data in message.attachments:
        maintype, _, subtype = mime.partition("/")
        mail.add_attachment(data, maintype, subtype, filename=name)
    return mail


def _smtp_payload(data: bytes) -> bytes:
    """The DATA payload: dot-stuffed, CRLF-terminated, with the final dot."""
    stuffed = re.sub(rb"(?m)^\.", b"..", data)
    if not stuffed.endswith(b"\r\n"):
        stuffed += b"\r\n"
    return stuffed + b".\r\n"


# --- the conversation ----------------------------------------------------------


class _Step:
    """Where the conversation stands, so that a broken one can be classified."""

    def __init__(self) -> None:
        self.name = "connect"


def _text(reply: bytes | str) -> str:
    if isinstance(reply, bytes):
        return reply.decode("utf-8", "replace")
    return reply


def _refused(phase: str, code: int, reply: bytes, *, permanent: bool) -> Delivery:
    status: Literal["failed", "retry"] = "failed" if permanent else "retry"
    return Delivery(status, detail=clean_detail(f"{phase} {code} {_text(reply)}"))


def _broken(step: _Step, exc: Exception) -> Delivery:
    if isinstance(exc, smtplib.SMTPResponseException):  # e.g. "auth 535 ..."
        detail = f"{step.name} {exc.smtp_code} {_text(exc.smtp_error)}"
    else:  # e.g. "connect: ConnectionRefusedError: ..."
        detail = f"{step.name}: {type(exc).__name__}: {exc}"
    detail = clean_detail(detail)
    if step.name == "body":
        # The body may have reached the server: RFC 1047's window.
        return Delivery("uncertain", detail=detail)
    return Delivery("retry", detail=detail)


def _close(smtp: smtplib.SMTP | None, *, polite: bool) -> None:
    if smtp is None:
        return
    if polite:
        try:
            if smtp.sock is not None:
                smtp.sock.settimeout(_QUIT_TIMEOUT)
            smtp.quit()
        except (OSError, ValueError):
            pass
        else:
            return
    smtp.close()


class SmtpChannel:
    """Sends an e-mail reminder through an SMTP server, once.

    ``now`` gives the Date header (defaults to the system clock);
    ``ssl_context`` verifies the server for STARTTLS and SSL (defaults to the
    system's trusted certificates).
    """

    def __init__(
        self,
        settings: SmtpSettings,
        *,
        now: Now | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.kind: ChannelKind = "email"
        self.settings = settings
        self._now = now or SystemClock().now
        self._ssl_context = ssl_context
        self._sender = mailbox(settings.from_address, "from_address").addr_spec
        self._bcc = bcc_addresses(settings.bcc)

    def send(self, message: Outgoing) -> Delivery:
        refused = wrong_message(message, "email")
        if refused is not None:
            return log_delivery("smtp", message, refused)
        try:
            mail, recipient = _compose(message, self.settings, self._now())
            payload = _smtp_payload(email_bytes(mail))
        except InvalidMessageError as exc:
            return log_delivery("smtp", message, Delivery("failed", detail=str(exc)))
        return log_delivery("smtp", message, self._transmit(recipient, payload))

    def _transmit(self, recipient: str, payload: bytes) -> Delivery:
        step = _Step()
        smtp: smtplib.SMTP | None = None
        try:
            smtp = self._connect()
            delivery = self._converse(smtp, step, recipient, payload)
        except (OSError, ValueError) as exc:  # smtplib's errors are OSErrors
            _close(smtp, polite=False)
            return _broken(step, exc)
        _close(smtp, polite=True)
        return delivery

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.security == "ssl":
            return smtplib.SMTP_SSL(
                s.host,
                s.port,
                local_hostname=s.helo,
                timeout=s.timeout,
                context=self._context(),
            )
        return smtplib.SMTP(s.host, s.port, local_hostname=s.helo, timeout=s.timeout)

    def _context(self) -> ssl.SSLContext:
        return self._ssl_context or ssl.create_default_context()

    def _converse(
        self, smtp: smtplib.SMTP, step: _Step, recipient: str, payload: bytes
    ) -> Delivery:
        step.name = "ehlo"
        smtp.ehlo_or_helo_if_needed()
        if self.settings.security == "starttls":
            step.name = "starttls"
            code, reply = smtp.starttls(context=self._context())
            if code != _SERVICE_READY:  # never go on in clear text
                return _refused("starttls", code, reply, permanent=False)
            smtp.ehlo_or_helo_if_needed()
        if self.settings.user:
            step.name = "auth"
            smtp.login(self.settings.user, secret_value(self.settings.password))
        step.name = "mail"
        code, reply = smtp.mail(self._sender)
        if code != _OK:  # a sender refused is a set-up problem, not this message's
            return _refused("mail", code, reply, permanent=False)
        step.name = "rcpt"
        code, reply = smtp.rcpt(recipient)
        if code not in (_OK, _WILL_FORWARD):
            return _refused("rcpt", code, reply, permanent=code >= _PERMANENT)
        # A refused copy to the credit manager does not hold the reminder back.
        bcc_refused = sum(
            smtp.rcpt(bcc)[0] not in (_OK, _WILL_FORWARD) for bcc in self._bcc
        )
        step.name = "data"
        smtp.putcmd("data")
        code, reply = smtp.getreply()
        if code != _START_INPUT:
            return _refused("data", code, reply, permanent=code >= _PERMANENT)
        step.name = "body"
        smtp.send(payload)
        code, reply = smtp.getreply()
        return _after_body(code, reply, bcc_refused)


def _after_body(code: int, reply: bytes, bcc_refused: int) -> Delivery:
    extra = {"bcc_refused": str(bcc_refused)} if bcc_refused else {}
    text = _text(reply)
    detail = clean_detail(f"body {code} {text}")
    # 4xx: explicitly not accepted, try later; an unreadable reply: it may have
    # been taken, so uncertain.
    status = _BODY_OUTCOME.get(code // 100, "uncertain")
    ref = clean_detail(text) if status == "sent" else ""
    return Delivery(status, provider_ref=ref, detail=detail, extra=extra)
