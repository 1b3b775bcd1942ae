"""SMS and letters through an HTTP provider: one POST per message, never repeated.

``WebhookChannel`` posts a generic JSON document with an ``Idempotency-Key``
header (the ledger key): a Stripe-style provider that already processed a key
replays its first answer, so a refusal such as 503 is safely ``retry``.
``BrevoSmsChannel`` speaks Brevo's transactional SMS API, which has no
idempotency header: the key goes in ``tag`` so the message can be found again,
and only refusals that provably happened before processing are ``retry``.

How a call ends:

* connection refused, DNS failure, connect timeout, TLS handshake: nothing was
  sent, ``retry``;
* read timeout, connection dropped after the request was sent: ``uncertain``;
* 2xx: ``sent`` (provider_ref from the JSON ``id``, ``message_id`` or
  ``messageId``); 409 from an idempotent provider: ``sent``, already accepted;
* 401, 402, 403, 407, 408, 429 (about us, not the message: credentials, credit,
  rate), and 502/503/504 from an idempotent provider: ``retry``;
* other 5xx: ``uncertain``; redirects and other 4xx: ``failed``.
"""

from __future__ import annotations

import base64
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

import requests
from pydantic import SecretStr
from urllib3.exceptions import MaxRetryError, NewConnectionError

from sageconnect.dunning.channels.checks import has_control
from sageconnect.dunning.channels.smtp import (
    clean_detail,
    log_delivery,
    secret_value,
    wrong_message,
)
from sageconnect.dunning.message import ChannelKind, Delivery, DeliveryStatus, Outgoing

USER_AGENT = "sageconnect"
BREVO_URL = "https://api.brevo.com"
BREVO_SMS_ENDPOINT = "/v3/transactionalSMS/send"

_CONTROL_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})
_SEPARATORS = re.compile(r"[\s.\-/()]")
_FRENCH_NATIONAL = re.compile(r"[1-9]\d{8}")
_NATIONAL_WITH_TRUNK = 10  # "0612345678" after +33: a (0) written in
_MOBILE_PREFIXES = ("6", "7")
_PROVIDER_CODE = re.compile(r"[A-Za-z0-9_.-]{1,40}")
_BREVO_SENDER = re.compile(r"[A-Za-z0-9]{1,11}|\+?[0-9]{1,15}")

# HTTP statuses.
_CONFLICT = 409
_RETRY_ALWAYS = frozenset({401, 402, 403, 407, 408, 429})
_RETRY_IF_IDEMPOTENT = frozenset({502, 503, 504})
_SUCCESS_CLASS = 2
_SERVER_ERROR_CLASS = 5


# --- phone numbers and SMS text ----------------------------------------------


def normalise_french_phone(raw: str) -> str | None:
    """A French number in E.164 (``06 12 34 56 78`` -> ``+33612345678``), or None.

    Accepts the national form (``0X XX XX XX XX``), ``+33`` and ``0033``
    prefixes, with spaces, dots, dashes or a written-in ``(0)``. Anything else
    (foreign, overseas, short or malformed numbers) gives None.
    """
    digits = _SEPARATORS.sub("", raw)
    if digits.startswith("+33"):
        national = digits[3:]
    elif digits.startswith("0033"):
        national = digits[4:]
    elif digits.startswith("0"):
        national = digits[1:]
    else:
        return None
    if len(national) == _NATIONAL_WITH_TRUNK and national.startswith("0"):
        national = national[1:]
    if not _FRENCH_NATIONAL.fullmatch(national):
        return None
    return f"+33{national}"


def french_mobile(raw: str) -> str | None:
    """A French mobile number (06, 07) in E.164, or None."""
    number = normalise_french_phone(raw)
    if number is None or not number[3:].startswith(_MOBILE_PREFIXES):
        return None
    return number


def sms_text(text: str) -> str:
    """The text without control or invisible formatting characters.

    Line breaks are kept (as LF), tabs become spaces; long texts are allowed
    (the provider concatenates them).
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    kept = (
        c
        for c in text
        if c == "\n" or unicodedata.category(c) not in _CONTROL_CATEGORIES
    )
    return "".join(kept).strip()


def sms_parts(message: Outgoing) -> tuple[str, str] | Delivery:
    """The E.164 mobile number and cleaned text, or why the SMS cannot go."""
    refused = wrong_message(message, "sms")
    if refused is not None:
        return refused
    mobile = french_mobile(message.recipient.phone)
    if mobile is None:
        return Delivery("failed", detail="no French mobile number")
    text = sms_text(message.rendered.text)
    if not text:
        return Delivery("failed", detail="empty SMS text")
    return mobile, text


_GSM7 = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
    "^{}\\[~]|€\f"  # the extension table (two septets each)
)


def needs_unicode(text: str) -> bool:
    """True when the text has characters outside GSM 03.38 (sent as UCS-2).

    Fitting French text to GSM-7 is the renderer's job
    (``sageconnect.dunning.formatting.gsm7``); the channel sends what it gets.
    """
    return not all(c in _GSM7 for c in text)


# --- one POST ----------------------------------------------------------------


def _never_connected(exc: requests.exceptions.ConnectionError) -> bool:
    """True when the connection was never made (refused, DNS): nothing was sent."""
    reason: object = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return isinstance(reason, NewConnectionError)  # includes NameResolutionError


def _post(
    session: requests.Session,
    url: str,
    *,
    headers: dict[str, str],
    payload: dict[str, Any],
    timeout: tuple[float, float],
) -> requests.Response | Delivery:
    """The response, or how the call broke (retry / uncertain) as a Delivery."""
    try:
        return session.post(
            url, json=payload, headers=headers, timeout=timeout, allow_redirects=False
        )
    except requests.exceptions.RequestException as exc:
        return _broken_call(exc)


_BREAKS: tuple[
    tuple[type[requests.exceptions.RequestException], DeliveryStatus, str], ...
] = (
    (requests.exceptions.ConnectTimeout, "retry", "connect timeout"),
    (requests.exceptions.SSLError, "retry", "TLS handshake failed"),
    (requests.exceptions.ReadTimeout, "uncertain", "read timeout after the request"),
    (requests.exceptions.InvalidHeader, "failed", "request could not be built"),
    (requests.exceptions.InvalidJSONError, "failed", "request could not be built"),
)


def _broken_call(exc: requests.exceptions.RequestException) -> Delivery:
    for kind, status, detail in _BREAKS:  # most specific first
        if isinstance(exc, kind):
            return Delivery(status, detail=detail)
    if isinstance(exc, requests.exceptions.ConnectionError):
        if _never_connected(exc):
            return Delivery("retry", detail="connection failed (refused or DNS)")
        return Delivery("uncertain", detail="connection dropped after the request")
    # e.g. a response cut short: the request itself went out.
    return Delivery("uncertain", detail=clean_detail(type(exc).__name__))


def _response_json(response: requests.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def classify(response: requests.Response, *, idempotent: bool) -> Delivery:
    """Delivery for an HTTP answer (see the module docstring)."""
    code = response.status_code
    data = _response_json(response)
    detail = f"HTTP {code}"
    provider_code = data.get("code")
    if isinstance(provider_code, str) and _PROVIDER_CODE.fullmatch(provider_code):
        detail += f" {provider_code}"
    if code // 100 == _SUCCESS_CLASS:
        ref = next(
            (
                data[k]
                for k in ("id", "message_id", "messageId")
                if data.get(k) is not None
            ),
            "",
        )
        return Delivery("sent", provider_ref=clean_detail(str(ref)), detail=detail)
    if code == _CONFLICT and idempotent:
        return Delivery("sent", detail=f"{detail} already accepted")
    if code in _RETRY_ALWAYS or (idempotent and code in _RETRY_IF_IDEMPOTENT):
        return Delivery("retry", detail=detail)
    if code // 100 == _SERVER_ERROR_CLASS:
        return Delivery("uncertain", detail=detail)
    return Delivery("failed", detail=detail)


def _check_url(url: str, what: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or has_control(url):
        raise ValueError(f"{what} must be an http(s) URL")


def _check_timeouts(connect: float, read: float) -> None:
    if connect <= 0 or read <= 0:
        raise ValueError("timeouts must be positive")


# --- a generic provider ------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookSettings:
    """Where to post, with which bearer token (never shown by repr)."""

    url: str
    token: SecretStr | str | None = field(default=None, repr=False)
    connect_timeout: float = 5.0
    read_timeout: float = 30.0

    def __post_init__(self) -> None:
        _check_url(self.url, "url")
        _check_timeouts(self.connect_timeout, self.read_timeout)
        if has_control(secret_value(self.token)):
            raise ValueError("token must not contain control characters")


def letter_pdf(message: Outgoing) -> bytes:
    """The letter: the rendered PDF, else the first PDF attachment."""
    if message.rendered.pdf:
        return message.rendered.pdf
    pdfs = (data for _, mime, data in message.attachments if mime == "application/pdf")
    return next(pdfs, b"")


class WebhookChannel:
    """Posts SMS or letters as JSON to a provider URL, with an Idempotency-Key.

    Payload: ``key``, ``channel``, ``company``, ``customer``, ``recipient``
    (``name``, ``email``, ``phone`` in E.164 for SMS, ``address`` lines),
    ``text``, ``subject``, ``registered``, and ``pdf_base64`` for letters.
    """

    def __init__(
        self, kind: Literal["sms", "letter"], settings: WebhookSettings
    ) -> None:
        if kind not in ("sms", "letter"):
            raise ValueError("a webhook channel carries sms or letter")
        self.kind: ChannelKind = kind
        self.settings = settings
        self._session = requests.Session()

    def close(self) -> None:
        self._session.close()

    def send(self, message: Outgoing) -> Delivery:
        payload = self._payload(message)
        if isinstance(payload, Delivery):
            return log_delivery("webhook", message, payload)
        s = self.settings
        headers = {"Idempotency-Key": message.key, "User-Agent": USER_AGENT}
        if s.token is not None:
            headers["Authorization"] = f"Bearer {secret_value(s.token)}"
        outcome = _post(
            self._session,
            s.url,
            headers=headers,
            payload=payload,
            timeout=(s.connect_timeout, s.read_timeout),
        )
        if isinstance(outcome, requests.Response):
            outcome = classify(outcome, idempotent=True)
        return log_delivery("webhook", message, outcome)

    def _payload(self, message: Outgoing) -> dict[str, Any] | Delivery:
        refused = wrong_message(message, self.kind)
        if refused is not None:
            return refused
        r = message.recipient
        phone, text = r.phone, message.rendered.text
        if self.kind == "sms":
            parts = sms_parts(message)
            if isinstance(parts, Delivery):
                return parts
            phone, text = parts
        payload: dict[str, Any] = {
            "key": message.key,
            "channel": message.channel,
            "company": message.company,
            "customer": message.customer,
            "recipient": {
                "name": r.name,
                "email": r.email,
                "phone": phone,
                "address": list(r.address),
            },
            "text": text,
            "subject": message.rendered.subject,
            "registered": message.registered,
        }
        if self.kind == "letter":
            pdf = letter_pdf(message)
            if not pdf:
                return Delivery("failed", detail="no PDF letter to post")
            if not any(line.strip() for line in r.address):
                return Delivery("failed", detail="no postal address")
            payload["pdf_base64"] = base64.b64encode(pdf).decode("ascii")
        return payload


# --- Brevo transactional SMS ---------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class BrevoSmsSettings:
    """Brevo (ex-Sendinblue) transactional SMS.

    ``sender``: up to 11 letters/digits or 15 digits. ``endpoint`` defaults to
    ``/v3/transactionalSMS/send`` (Brevo deprecated ``/v3/transactionalSMS/sms``
    in May 2025; both take the same body).
    """

    api_key: SecretStr | str = field(repr=False)
    sender: str
    base_url: str = BREVO_URL
    endpoint: str = BREVO_SMS_ENDPOINT
    web_url: str = ""  # Brevo calls it back with delivery events, when given
    connect_timeout: float = 5.0
    read_timeout: float = 30.0

    def __post_init__(self) -> None:
        _check_url(self.base_url, "base_url")
        if self.web_url:
            _check_url(self.web_url, "web_url")
        if not self.endpoint.startswith("/") or has_control(self.endpoint):
            raise ValueError("endpoint must be a path starting with /")
        if not _BREVO_SENDER.fullmatch(self.sender):
            raise ValueError("sender must be up to 11 letters/digits or 15 digits")
        key = secret_value(self.api_key)
        if not key or has_control(key):
            raise ValueError("api_key must be given, without control characters")
        _check_timeouts(self.connect_timeout, self.read_timeout)


class BrevoSmsChannel:
    """Sends an SMS reminder with Brevo, the ledger key as the message's tag."""

    def __init__(self, settings: BrevoSmsSettings) -> None:
        self.kind: ChannelKind = "sms"
        self.settings = settings
        self._session = requests.Session()

    def close(self) -> None:
        self._session.close()

    def send(self, message: Outgoing) -> Delivery:
        checked = sms_parts(message)
        if isinstance(checked, Delivery):
            return log_delivery("brevo", message, checked)
        mobile, text = checked
        s = self.settings
        payload: dict[str, Any] = {
            "sender": s.sender,
            "recipient": mobile.removeprefix("+"),  # as in Brevo's examples
            "content": text,
            "type": "transactional",
            "tag": message.key,
            "unicodeEnabled": needs_unicode(text),
        }
        if s.web_url:
            payload["webUrl"] = s.web_url
        headers = {
            "api-key": secret_value(s.api_key),
            "accept": "application/json",
            "User-Agent": USER_AGENT,
        }
        outcome = _post(
            self._session,
            s.base_url.rstrip("/") + s.endpoint,
            headers=headers,
            payload=payload,
            timeout=(s.connect_timeout, s.read_timeout),
        )
        if isinstance(outcome, requests.Response):
            outcome = classify(outcome, idempotent=False)
        return log_delivery("brevo", message, outcome)
