"""Where credit alerts go ([credit.notify]): e-mail, webhook, folder. Each target
delivers one notice once and says how it went (a dunning ``Delivery``).

- ``smtp``: one e-mail per notice to the credit managers (all in To), through
  the dunning SMTP channel's phase-by-phase conversation (``Message-ID`` from
  the notice key; a drop after the body is ``uncertain``);
- ``webhook``: one POST of ``{"key", "company", "alert": {...}}`` with an
  ``Idempotency-Key`` header, classified like the dunning webhook;
- ``folder``: one ``<key>.json`` file per notice, written atomically; a file
  already there for the key means it was written.

Subjects and bodies are in French and short; they carry the alert's facts, and
nothing here logs an address, a token or a body.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Protocol

import requests

from sageconnect.clock import Clock
from sageconnect.config import Config
from sageconnect.credit.ledger import NoticeRow
from sageconnect.credit.settings import FolderTarget, SmtpTarget, WebhookTarget
from sageconnect.dunning.channels.checks import InvalidMessageError, mailbox
from sageconnect.dunning.channels.folder import write_atomically
from sageconnect.dunning.channels.http import (
    USER_AGENT,
    _post,  # one POST, its failures classified as the dunning webhook's
    classify,
)
from sageconnect.dunning.channels.smtp import (
    SmtpChannel,
    SmtpSettings,
    build_email,
    clean_detail,
    email_bytes,
    log_delivery,
    secret_value,
    valid_key,
    wrong_message,
)
from sageconnect.dunning.formatting import day as short_day
from sageconnect.dunning.formatting import money
from sageconnect.dunning.message import Delivery, Outgoing, Recipient, Rendered
from sageconnect.errors import ConfigError, Problem

CONNECT_TIMEOUT = 10.0  # seconds to reach a server; the configured timeout is the read
FR = "fr"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class AlertMessage:
    """One notice of one alert state change, ready to be said."""

    key: str  # the notice key: Message-ID, Idempotency-Key, file name
    company: str  # company code
    company_name: str
    currency: str = "EUR"
    event: str  # raised | escalated | cleared
    kind: str
    level: str
    customer: str  # customer code
    customer_name: str = ""
    subject: str = ""  # an invoice number, a cover reference, or ""
    facts: dict[str, str] = dataclasses.field(default_factory=dict)

    def headline(self) -> str:
        """What the alert is about, in a few French words."""
        return headline(self.kind, self.level, self.customer, self.subject, self.facts)

    def title(self) -> str:
        """The e-mail subject."""
        return f"[sageconnect] {_prefix(self.kind, self.event)} : {self.headline()}"

    def text(self) -> str:
        """The plain-text body."""
        return body(self)

    def document(self) -> dict[str, Any]:
        """The JSON posted to a webhook (and written by a folder target)."""
        return {
            "key": self.key,
            "company": self.company,
            "alert": {
                "kind": self.kind,
                "level": self.level,
                "event": self.event,
                "customer": self.customer,
                "customer_name": self.customer_name,
                "subject": self.subject,
                "message": self.headline(),
                "facts": dict(self.facts),
            },
        }


def message_for(
    notice: NoticeRow,
    *,
    company: str,
    company_name: str,
    currency: str = "EUR",
    customer_name: str = "",
) -> AlertMessage:
    """The message of a notice row (its event and level, the alert's facts)."""
    a = notice.alert
    return AlertMessage(
        key=notice.key,
        company=company,
        company_name=company_name,
        currency=currency,
        event=notice.event,
        kind=a.kind,
        level=notice.level,
        customer=a.customer,
        customer_name=customer_name,
        subject=a.subject,
        facts=a.facts,
    )


class AlertTarget(Protocol):
    """Delivers one alert message once. Never retries by itself."""

    name: str

    def send(self, message: AlertMessage) -> Delivery: ...


# --- French wording ----------------------------------------------------------------

_PREFIXES = {
    "exposure": "Alerte encours",
    "credit_limit": "Alerte encours",
    "uninsured": "Alerte encours",
    "declaration": "Alerte déclaration",
    "prescription": "Alerte prescription",
}
_EVENT_SUFFIXES = {"raised": "", "escalated": " aggravée", "cleared": " levée"}
_EVENT_LINES = {
    "raised": "Nouvelle alerte.",
    "escalated": "L'alerte s'aggrave.",
    "cleared": "Alerte levée : sa cause a disparu.",
}
_AMOUNTS = frozenset(
    {"exposure", "limit", "uncovered", "excess", "before", "after", "open"}
)
_DATES = frozenset({"until", "effective", "deadline", "due", "date"})
_LABELS = {
    "exposure": "Encours",
    "limit": "Limite",
    "uncovered": "Non couvert",
    "excess": "Dépassement",
    "insurer": "Assureur",
    "until": "Fin de garantie",
    "before": "Limite précédente",
    "after": "Nouvelle limite",
    "effective": "Date d'effet",
    "deadline": "Date limite de déclaration",
    "due": "Échéance",
    "open": "Reste dû",
    "date": "Date",
    "invoice": "Facture",
    "days": "Délai de paiement (jours)",
}
_LEVELS = {
    "warning": "vigilance",
    "over": "dépassement",
    "soon": "proche",
    "expired": "expirée",
    "reduced": "réduite",
    "cancelled": "supprimée",
    "today": "aujourd'hui",
    "late": "en retard",
    "stop": "arrêt",
    "beyond_policy": "hors police",
    "suspended": "suspendue",
    "prescribed": "prescrite",
}
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _prefix(kind: str, event: str) -> str:
    return _PREFIXES.get(kind, "Alerte assurance-crédit") + _EVENT_SUFFIXES.get(
        event, ""
    )


def _fact(name: str, value: str, currency: str = "EUR") -> str:
    """A fact as a French reader writes it: 12 000,00 EUR, 31/10/2026."""
    if name in _AMOUNTS:
        try:
            return money(Decimal(value), currency, FR)
        except (InvalidOperation, TypeError):
            return value
    if name in _DATES and _ISO_DATE.fullmatch(value):
        return short_day(dt.date.fromisoformat(value), FR)
    return value


_HEADLINES = {
    ("exposure", "warning"): "{c} proche de la limite assurée",
    ("exposure", "over"): "{c} au-dessus de la limite assurée",
    ("credit_limit", "over"): "{c} au-dessus de l'encours autorisé",
    ("uninsured", "warning"): "{c} : encours sans garantie",
    ("uninsured", "over"): "{c} : encours sans garantie au-delà du non-dénommé",
    ("limit_expiry", "soon"): "{c} : garantie expirant le {until}",
    ("limit_expiry", "expired"): "{c} : garantie expirée le {until}",
    ("limit_change", "reduced"): "{c} : limite assurée réduite",
    ("limit_change", "cancelled"): "{c} : garantie supprimée par l'assureur",
    ("declaration", "today"): "{c} : facture {s} à déclarer aujourd'hui",
    ("declaration", "late"): "{c} : déclaration de la facture {s} en retard"
    " (limite {deadline})",
    ("stop_delivery", "soon"): "{c} : arrêt des livraisons le {date}",
    ("stop_delivery", "stop"): "{c} : livraisons à arrêter depuis le {date}",
    ("terms", "beyond_policy"): "{c} : facture {s} payable au-delà du délai"
    " de la police",
    ("dispute", "suspended"): "{c} : facture {s} en litige, garantie suspendue",
    ("prescription", "soon"): "{c} : facture {s} prescrite le {limit}",
    ("prescription", "prescribed"): "{c} : facture {s} prescrite",
}
_COUNTDOWN = "{c} : facture {s} à déclarer avant le {deadline} (J-{days})"


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "?"


def headline(
    kind: str, level: str, customer: str, subject: str, facts: dict[str, str]
) -> str:
    """E.g. ``C0042 au-dessus de la limite assurée``."""
    values = _Blank({name: _fact(name, value) for name, value in facts.items()})
    if kind == "prescription":  # its "limit" is the day, not an amount
        values["limit"] = _fact("date", facts.get("limit", ""))
    values |= {"c": customer, "s": subject}
    template = _HEADLINES.get((kind, level))
    if template is None and kind == "declaration" and level.startswith("d"):
        template = _COUNTDOWN
        values["days"] = level.removeprefix("d")
    if template is None:
        return f"{customer} : {kind} ({level})"
    return template.format_map(values)


def body(message: AlertMessage) -> str:
    """The e-mail body: what happened, to whom, and the facts."""
    m = message
    who = f"{m.customer} – {m.customer_name}" if m.customer_name else m.customer
    lines = [
        _EVENT_LINES.get(m.event, m.event),
        "",
        m.headline() + ".",
        "",
        f"Société : {m.company_name} ({m.company})",
        f"Client : {who}",
    ]
    if m.subject:
        lines.append(f"Référence : {m.subject}")
    countdown = f"J-{m.level[1:]}" if re.fullmatch(r"d\d+", m.level) else m.level
    lines.append(f"Niveau : {_LEVELS.get(m.level, countdown)}")
    for name, value in sorted(m.facts.items()):
        if m.kind == "prescription" and name == "limit":
            label, shown = "Prescription", _fact("date", value)
        else:
            label = _LABELS.get(name, name)
            shown = _fact(name, value, m.currency)
        lines.append(f"{label} : {shown}")
    lines += ["", f"-- \nsageconnect · {m.kind} · {m.key}"]
    return "\n".join(lines) + "\n"


# --- targets -----------------------------------------------------------------------


def _dot_stuffed(data: bytes) -> bytes:
    """The DATA payload: dot-stuffed, CRLF-terminated, with the final dot."""
    stuffed = re.sub(rb"(?m)^\.", b"..", data)
    if not stuffed.endswith(b"\r\n"):
        stuffed += b"\r\n"
    return stuffed + b".\r\n"


class ManyTo(SmtpChannel):
    """The SMTP channel with every credit manager in To (one message for all)."""

    def __init__(
        self,
        settings: SmtpSettings,
        to: tuple[str, ...],
        *,
        now: Callable[[], dt.datetime],
    ) -> None:
        if not to:
            raise ValueError("at least one address to send alerts to")
        addresses = [mailbox(a, "to").addr_spec for a in to]
        # The first is the envelope's main recipient, the others go as copies:
        # a refused copy does not hold the alert back.
        super().__init__(
            dataclasses.replace(settings, bcc=",".join(addresses[1:])), now=now
        )
        self.to = tuple(addresses)

    def send(self, message: Outgoing) -> Delivery:
        refused = wrong_message(message, "email")
        if refused is not None:
            return log_delivery("smtp", message, refused)
        try:
            mail = build_email(message, self.settings, self._now())
            del mail["To"]
            mail["To"] = ", ".join(self.to)
            payload = _dot_stuffed(email_bytes(mail))
        except InvalidMessageError as exc:
            return log_delivery("smtp", message, Delivery("failed", detail=str(exc)))
        return log_delivery("smtp", message, self._transmit(self.to[0], payload))


class AlertMail:
    """E-mails each alert notice to the credit managers."""

    def __init__(
        self,
        name: str,
        settings: SmtpSettings,
        to: tuple[str, ...],
        *,
        now: Callable[[], dt.datetime],
    ) -> None:
        self.name = name
        self._channel = ManyTo(settings, to, now=now)

    def send(self, message: AlertMessage) -> Delivery:
        outgoing = Outgoing(
            key=message.key,
            channel="email",
            company=message.company,
            customer=message.customer,
            recipient=Recipient(name="", email=self._channel.to[0]),
            rendered=Rendered(subject=message.title(), text=message.text()),
        )
        return self._channel.send(outgoing)


class AlertWebhook:
    """Posts each alert notice as JSON, with the notice key as Idempotency-Key."""

    def __init__(
        self,
        name: str,
        url: str,
        *,
        token: str | None = None,
        connect_timeout: float = CONNECT_TIMEOUT,
        read_timeout: float = 30.0,
    ) -> None:
        self.name = name
        self.url = url
        self._token = token
        self._timeout = (connect_timeout, read_timeout)
        self._session = requests.Session()

    def close(self) -> None:
        self._session.close()

    def send(self, message: AlertMessage) -> Delivery:
        if not valid_key(message.key):
            return Delivery(
                "failed", detail="idempotency key has unexpected characters"
            )
        headers = {"Idempotency-Key": message.key, "User-Agent": USER_AGENT}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        outcome = _post(
            self._session,
            self.url,
            headers=headers,
            payload=message.document(),
            timeout=self._timeout,
        )
        if isinstance(outcome, requests.Response):
            outcome = classify(outcome, idempotent=True)
        return outcome


class AlertFolder:
    """Writes each alert notice to ``<folder>/<key>.json`` instead of sending it."""

    def __init__(self, name: str, folder: Path) -> None:
        self.name = name
        self.folder = folder

    def path_for(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def send(self, message: AlertMessage) -> Delivery:
        if not valid_key(message.key):
            return Delivery(
                "failed", detail="idempotency key has unexpected characters"
            )
        target = self.path_for(message.key)
        if target.exists():
            return Delivery("sent", provider_ref=target.name, detail="already written")
        document = {
            **message.document(),
            "subject": message.title(),
            "text": message.text(),
        }
        data = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            write_atomically(target, data.encode())
        except OSError as exc:  # nothing was written under the key's name
            detail = clean_detail(f"{type(exc).__name__}: {exc.strerror or ''}")
            return Delivery("retry", detail=detail)
        return Delivery("sent", provider_ref=target.name, detail="written")


def build_targets(config: Config, clock: Clock) -> dict[str, AlertTarget]:
    """One target per [credit.notify.<name>]; a bad address is a config error."""
    if config.credit is None:
        return {}
    built: dict[str, AlertTarget] = {}
    for name, spec in config.credit.notify.items():
        try:
            built[name] = _target(config, name, spec, clock)
        except (ValueError, InvalidMessageError) as exc:
            raise ConfigError(
                [Problem(f"credit.notify.{name}", spec.kind, str(exc))]
            ) from exc
    return built


def smtp_settings(spec: SmtpTarget) -> SmtpSettings:
    """The SMTP channel settings of an [credit.notify] or [reports.mail] target."""
    return SmtpSettings(
        host=spec.host,
        port=spec.port,
        security=spec.security,
        user=spec.user,
        password=secret_value(spec.password),
        timeout=spec.timeout,
        from_address=spec.from_address,
        from_name="sageconnect",
    )


def _target(
    config: Config,
    name: str,
    spec: SmtpTarget | WebhookTarget | FolderTarget,
    clock: Clock,
) -> AlertTarget:
    if isinstance(spec, SmtpTarget):
        return AlertMail(name, smtp_settings(spec), spec.to, now=clock.now)
    if isinstance(spec, WebhookTarget):
        return AlertWebhook(
            name,
            spec.url,
            token=secret_value(spec.token) or None,
            connect_timeout=min(CONNECT_TIMEOUT, spec.timeout),
            read_timeout=spec.timeout,
        )
    return AlertFolder(name, config.resolve_path(spec.path))
