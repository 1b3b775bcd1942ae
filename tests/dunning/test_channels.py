"""Channels against real servers on loopback: aiosmtpd, http.server, files.

What a user checks: what the server received (once), the status the ledger
would record, and that a retry carries the same key.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import ssl
from dataclasses import replace
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from structlog.testing import capture_logs

from sageconnect.clock import FixedClock
from sageconnect.dunning.channels.call import CallTaskChannel
from sageconnect.dunning.channels.folder import FolderChannel
from sageconnect.dunning.channels.http import (
    BrevoSmsChannel,
    BrevoSmsSettings,
    WebhookChannel,
    WebhookSettings,
    normalise_french_phone,
)
from sageconnect.dunning.channels.smtp import SmtpChannel, SmtpSettings
from sageconnect.dunning.message import (
    Channel,
    ChannelKind,
    Outgoing,
    Recipient,
    Rendered,
)
from servers import Provider, StartSmtp, free_port

KEY = "3f9a7c0e5b2d4a61"
DEBTOR = "compta@client.example"
CREDIT_MANAGER = "credit.manager@acme.example"
PDF = b"%PDF-1.4\n% a formal notice\n%%EOF\n"
SUBJECT = "Relance : facture F-2026-001 échue"


def outgoing(
    channel: ChannelKind = "email",
    *,
    key: str = KEY,
    name: str = "Jean Dupont",
    address: str = DEBTOR,
    phone: str = "06 12 34 56 78",
    postal: tuple[str, ...] = ("SARL Client", "1 rue de la Paix", "75002 Paris"),
    subject: str = SUBJECT,
    text: str = "Bonjour,\nla facture F-2026-001 de 1 200,00 € est échue.\n",
    html: str = "",
    pdf: bytes = b"",
    attachments: tuple[tuple[str, str, bytes], ...] = (),
    registered: bool = False,
) -> Outgoing:
    return Outgoing(
        key=key,
        channel=channel,
        company="acme",
        customer="C001",
        recipient=Recipient(name=name, email=address, phone=phone, address=postal),
        rendered=Rendered(subject=subject, text=text, html=html, pdf=pdf),
        attachments=attachments,
        registered=registered,
    )


def settings(port: int, **changes: Any) -> SmtpSettings:
    base = SmtpSettings(
        host="127.0.0.1",
        port=port,
        security="none",
        timeout=5,
        from_address="relances@acme.example",
        from_name="ACME – Service clients",
        reply_to="compta@acme.example",
        bcc=CREDIT_MANAGER,
        helo="sageconnect.test",
    )
    return replace(base, **changes)


def test_email_is_delivered_once_with_its_headers(
    smtp_server: StartSmtp, clock: FixedClock
) -> None:
    port, box = smtp_server()
    channel = SmtpChannel(settings(port), now=clock.now)
    message = outgoing(
        html="<p>La facture <b>F-2026-001</b> est échue.</p>",
        attachments=(("mise-en-demeure.pdf", "application/pdf", PDF),),
    )

    with capture_logs() as logged:
        delivery = channel.send(message)

    assert delivery.status == "sent"
    assert "queued as 4XyZ123" in delivery.provider_ref
    [got] = box.received
    assert got.mail_from == "relances@acme.example"
    assert got.rcpt_tos == [DEBTOR, CREDIT_MANAGER]  # the copy: envelope only
    mail = got.message()
    assert mail["Message-ID"] == f"<{KEY}@acme.example>"
    assert mail["To"].addresses[0].addr_spec == DEBTOR
    assert mail["To"].addresses[0].display_name == "Jean Dupont"
    assert mail["From"].addresses[0].addr_spec == "relances@acme.example"
    assert mail["From"].addresses[0].display_name == "ACME – Service clients"
    assert mail["Reply-To"] == "compta@acme.example"
    assert mail["Subject"] == SUBJECT
    assert mail["Date"] == "Tue, 24 Nov 2026 09:00:00 +0100"  # Paris time
    assert mail["Bcc"] is None
    assert CREDIT_MANAGER.encode() not in got.content
    text = mail.get_body(("plain",))
    html = mail.get_body(("html",))
    assert text is not None
    assert isinstance(text, EmailMessage)
    assert "1 200,00 € est échue" in text.get_content()
    assert html is not None
    assert isinstance(html, EmailMessage)
    assert "<b>F-2026-001</b>" in html.get_content()
    [pdf] = list(mail.iter_attachments())
    assert isinstance(pdf, EmailMessage)
    assert pdf.get_filename() == "mise-en-demeure.pdf"
    assert pdf.get_content_type() == "application/pdf"
    assert pdf.get_content() == PDF
    assert max(got.content) < 0x80  # 7-bit on the wire
    [event] = logged
    assert event["event"] == "channel_delivery"
    assert (event["key"], event["status"]) == (KEY, "sent")
    assert "@" not in json.dumps(logged)


def test_421_at_mail_from_is_retried_then_delivered_once(
    smtp_server: StartSmtp, clock: FixedClock
) -> None:
    port, box = smtp_server("mail421")
    channel = SmtpChannel(settings(port), now=clock.now)

    first = channel.send(outgoing())
    assert first.status == "retry"
    assert first.detail.startswith("mail 421")
    assert box.received == []

    box.mode = "accept"  # the next cycle
    second = channel.send(outgoing())
    assert second.status == "sent"
    [got] = box.received
    assert got.message()["Message-ID"] == f"<{KEY}@acme.example>"


def test_drop_after_the_body_is_uncertain_though_the_server_has_it(
    smtp_server: StartSmtp, clock: FixedClock
) -> None:
    port, box = smtp_server("drop")

    delivery = SmtpChannel(settings(port), now=clock.now).send(outgoing())

    assert delivery.status == "uncertain"
    assert delivery.detail.startswith("body:")
    [got] = box.received  # it did arrive: resending would duplicate it
    assert got.message()["Message-ID"] == f"<{KEY}@acme.example>"


def test_550_at_rcpt_fails_for_good_without_naming_the_address(
    smtp_server: StartSmtp, clock: FixedClock
) -> None:
    port, box = smtp_server("rcpt550")

    delivery = SmtpChannel(settings(port), now=clock.now).send(outgoing())

    assert delivery.status == "failed"
    assert delivery.detail.startswith("rcpt 550 5.1.1")
    assert DEBTOR not in delivery.detail
    assert box.received == []


@pytest.mark.parametrize(
    ("mode", "status"), [("body554", "failed"), ("body451", "retry")]
)
def test_a_refusal_of_the_body_is_final_or_transient(
    smtp_server: StartSmtp, clock: FixedClock, mode: str, status: str
) -> None:
    port, _ = smtp_server(mode)

    delivery = SmtpChannel(settings(port), now=clock.now).send(outgoing())

    assert delivery.status == status
    assert delivery.detail.startswith(f"body {mode[4:]}")


def test_connection_refused_is_retried(clock: FixedClock) -> None:
    delivery = SmtpChannel(settings(free_port()), now=clock.now).send(outgoing())

    assert delivery.status == "retry"
    assert delivery.detail.startswith("connect:")


@pytest.mark.parametrize(
    "changes",
    [
        {"name": "ACME\r\nBcc: evil@x.example"},
        {"subject": "Relance\r\nBcc: evil@x.example"},
        {"subject": "Relance\n"},
        {"address": f"{DEBTOR}\r\nBcc: evil@x.example"},
        {"address": f"{DEBTOR}, evil@x.example"},
        {"name": "ACME\x00"},
    ],
)
def test_header_injection_fails_before_connecting(
    clock: FixedClock, changes: dict[str, str]
) -> None:
    # Nobody listens on the port: had the channel connected, it would say retry.
    channel = SmtpChannel(settings(free_port()), now=clock.now)

    delivery = channel.send(outgoing(**changes))  # type: ignore[arg-type]

    assert delivery.status == "failed"
    assert "evil" not in delivery.detail


def test_text_the_codecs_refuse_fails_cleanly(clock: FixedClock) -> None:
    channel = SmtpChannel(settings(free_port()), now=clock.now)

    delivery = channel.send(outgoing(text="Bonjour \ud800"))

    assert (delivery.status, delivery.detail) == (
        "failed",
        "message not buildable (UnicodeEncodeError)",
    )


# --- STARTTLS and AUTH with a self-signed certificate ------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1: (cert.pem, key.pem)."""
    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mx.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def only_relances(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data == (b"relances", b"s3cret")
    return AuthResult(success=ok, handled=False)  # aiosmtpd then answers 235/535


@pytest.mark.parametrize(
    ("password", "status"), [("s3cret", "sent"), ("wrong", "retry")]
)
def test_starttls_then_login(
    smtp_server: StartSmtp,
    clock: FixedClock,
    certificate: tuple[Path, Path],
    password: str,
    status: str,
) -> None:
    cert, key = certificate
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert, key)
    port, box = smtp_server(
        tls_context=server_tls,
        require_starttls=True,
        authenticator=only_relances,
    )
    channel = SmtpChannel(
        settings(port, security="starttls", user="relances", password=password),
        now=clock.now,
        ssl_context=ssl.create_default_context(cafile=str(cert)),
    )

    delivery = channel.send(outgoing())

    assert delivery.status == status
    assert len(box.received) == (1 if status == "sent" else 0)
    if status == "retry":
        assert delivery.detail.startswith("auth 535")


def test_starttls_asked_but_not_offered_sends_nothing_in_clear(
    smtp_server: StartSmtp, clock: FixedClock
) -> None:
    port, box = smtp_server()  # no TLS on this server

    delivery = SmtpChannel(settings(port, security="starttls"), now=clock.now).send(
        outgoing()
    )

    assert delivery.status == "retry"
    assert delivery.detail.startswith("starttls")
    assert box.received == []


def test_password_is_not_shown_by_repr() -> None:
    assert "s3cret" not in repr(settings(25, user="relances", password="s3cret"))


# --- a real HTTP provider ------------------------------------------------------


def webhook(url: str, kind: str = "sms", **changes: Any) -> WebhookChannel:
    base = WebhookSettings(url=url, token="tok-123", connect_timeout=2, read_timeout=2)
    return WebhookChannel(kind, replace(base, **changes))  # type: ignore[arg-type]


def test_sms_webhook_posts_once_with_the_key(provider: Provider) -> None:
    channel = webhook(provider.url + "/sms")

    delivery = channel.send(
        outgoing("sms", text="Bonjour\x00\x07 M. Dupont,\r\nmerci.\x1b")
    )

    assert (delivery.status, delivery.provider_ref) == ("sent", "p-1")
    [request] = provider.received
    assert request.path == "/sms"
    assert request.headers["idempotency-key"] == KEY
    assert request.headers["authorization"] == "Bearer tok-123"
    body = request.body
    assert body["key"] == KEY
    assert (body["channel"], body["company"], body["customer"]) == (
        "sms",
        "acme",
        "C001",
    )
    assert body["recipient"]["phone"] == "+33612345678"
    assert body["recipient"]["name"] == "Jean Dupont"
    assert body["text"] == "Bonjour M. Dupont,\nmerci."
    assert body["registered"] is False
    assert "pdf_base64" not in body


def test_503_is_retried_with_the_same_key(provider: Provider) -> None:
    provider.replies = [(503, {})]
    channel = webhook(provider.url)

    first = channel.send(outgoing("sms"))
    second = channel.send(outgoing("sms"))  # the next cycle

    assert (first.status, first.detail) == ("retry", "HTTP 503")
    assert second.status == "sent"
    assert [r.headers["idempotency-key"] for r in provider.received] == [KEY, KEY]


def test_read_timeout_is_uncertain(provider: Provider) -> None:
    provider.replies = [(0, {})]  # accepts, then never answers
    channel = webhook(provider.url, read_timeout=0.5)

    delivery = channel.send(outgoing("sms"))

    assert delivery.status == "uncertain"
    assert len(provider.received) == 1  # it did get there


def test_connection_dropped_after_the_request_is_uncertain(provider: Provider) -> None:
    provider.replies = [(-1, {})]

    delivery = webhook(provider.url).send(outgoing("sms"))

    assert delivery.status == "uncertain"
    assert len(provider.received) == 1


def test_connection_refused_or_unknown_host_is_retried() -> None:
    refused = webhook(f"http://127.0.0.1:{free_port()}").send(outgoing("sms"))
    unknown = webhook("http://no-such-host.invalid", connect_timeout=1).send(
        outgoing("sms")
    )

    assert refused.status == "retry"
    assert unknown.status == "retry"


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (201, "sent"),
        (409, "sent"),  # the provider already has this key
        (401, "retry"),
        (429, "retry"),
        (502, "retry"),
        (504, "retry"),
        (400, "failed"),
        (422, "failed"),
        (302, "failed"),
        (500, "uncertain"),
    ],
)
def test_webhook_answers(provider: Provider, code: int, status: str) -> None:
    provider.replies = [(code, {"message_id": "m-9", "code": "some_code"})]

    delivery = webhook(provider.url).send(outgoing("sms"))

    assert delivery.status == status
    assert delivery.detail.startswith(f"HTTP {code}")
    if code == 201:
        assert delivery.provider_ref == "m-9"
    assert len(provider.received) == 1


def test_letter_webhook_carries_the_pdf(provider: Provider) -> None:
    channel = webhook(provider.url, kind="letter")

    delivery = channel.send(outgoing("letter", pdf=PDF, registered=True))
    no_address = channel.send(outgoing("letter", key="k2", pdf=PDF, postal=()))

    assert delivery.status == "sent"
    [request] = provider.received
    assert base64.b64decode(request.body["pdf_base64"]) == PDF
    assert request.body["registered"] is True
    assert request.body["recipient"]["address"] == [
        "SARL Client",
        "1 rue de la Paix",
        "75002 Paris",
    ]
    assert (no_address.status, no_address.detail) == ("failed", "no postal address")


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("06 12 34 56 78", "+33612345678"),
        ("06.12.34.56.78", "+33612345678"),
        ("0612345678", "+33612345678"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("+33 (0)6 12 34 56 78", "+33612345678"),
        ("0033 6 12 34 56 78", "+33612345678"),
        ("01\u00a023\u00a045\u00a067\u00a089", "+33123456789"),
        ("06 12 34 56", None),
        ("+44 20 7183 8750", None),
        ("612345678", None),
        ("00 12 34 56 78", None),
        ("", None),
    ],
)
def test_french_numbers_become_e164(raw: str, e164: str | None) -> None:
    assert normalise_french_phone(raw) == e164


@pytest.mark.parametrize("phone", ["+44 7700 900123", "01 23 45 67 89", ""])
def test_sms_to_anything_but_a_french_mobile_fails_unsent(
    provider: Provider, phone: str
) -> None:
    delivery = webhook(provider.url).send(outgoing("sms", phone=phone))

    assert (delivery.status, delivery.detail) == ("failed", "no French mobile number")
    assert provider.received == []


def brevo(url: str) -> BrevoSmsChannel:
    return BrevoSmsChannel(
        BrevoSmsSettings(api_key="xkeysib-test", sender="ACME", base_url=url)
    )


def test_brevo_request_shape(provider: Provider) -> None:
    provider.replies = [(201, {"messageId": 1511882900176220})]
    text = "Échéance dépassée : 1 200,00 € à régler.\nMerci."

    delivery = brevo(provider.url).send(outgoing("sms", text=text))

    assert (delivery.status, delivery.provider_ref) == ("sent", "1511882900176220")
    [request] = provider.received
    assert request.path == "/v3/transactionalSMS/send"
    assert request.headers["api-key"] == "xkeysib-test"
    assert "idempotency-key" not in request.headers
    assert request.body == {
        "sender": "ACME",
        "recipient": "33612345678",
        "content": text,
        "type": "transactional",
        "tag": KEY,
        "unicodeEnabled": False,  # all GSM-7: 160 characters a segment
    }


def test_brevo_asks_for_unicode_only_when_needed(provider: Provider) -> None:
    brevo(provider.url).send(outgoing("sms", text="Merci d’être rapide."))

    assert provider.received[0].body["unicodeEnabled"] is True


@pytest.mark.parametrize(("code", "status"), [(503, "uncertain"), (429, "retry")])
def test_brevo_has_no_idempotency_so_a_5xx_is_uncertain(
    provider: Provider, code: int, status: str
) -> None:
    provider.replies = [(code, {"code": "x"})]

    assert brevo(provider.url).send(outgoing("sms")).status == status


# --- folder and call tasks ---------------------------------------------------


def test_folder_writes_the_same_email_as_smtp_once(
    tmp_path: Path, smtp_server: StartSmtp, clock: FixedClock
) -> None:
    port, box = smtp_server()
    smtp = settings(port)
    folder = FolderChannel("email", tmp_path / "out", email=smtp, now=clock.now)

    text = ".A line starting with a dot\n.\nand a lone dot above."
    first = folder.send(outgoing(text=text))
    SmtpChannel(smtp, now=clock.now).send(outgoing(text=text))
    eml = tmp_path / "out" / f"{KEY}.eml"
    written = eml.read_bytes()
    clock.advance(dt.timedelta(days=1))
    second = folder.send(outgoing())

    assert (first.status, first.provider_ref) == ("sent", f"{KEY}.eml")
    assert written == box.received[0].content  # byte for byte what SMTP sent
    body = box.received[0].message().get_body(("plain",))
    assert isinstance(body, EmailMessage)
    # Dot-stuffed on the wire, undone by the server: the text is intact.
    assert body.get_content().replace("\r\n", "\n") == text + "\n"
    assert second.status == "sent"
    assert eml.read_bytes() == written  # not rewritten
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [f"{KEY}.eml"]


def test_folder_letter_sms_and_refusals(tmp_path: Path) -> None:
    letters = FolderChannel("letter", tmp_path)
    sms = FolderChannel("sms", tmp_path)

    assert letters.send(outgoing("letter", pdf=PDF)).status == "sent"
    assert letters.send(outgoing("letter", key="k2")).status == "failed"  # no PDF
    assert sms.send(outgoing("sms", text="Merci\x00.")).status == "sent"
    assert (
        sms.send(outgoing("sms", key="k3", phone="+44 7700 900123")).status == "failed"
    )
    assert (tmp_path / f"{KEY}.pdf").read_bytes() == PDF
    assert (tmp_path / f"{KEY}.txt").read_text(encoding="utf-8") == (
        "To: Jean Dupont <+33612345678>\n\nMerci.\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{KEY}.pdf", f"{KEY}.txt"]


def test_folder_refuses_keys_that_are_not_file_names(tmp_path: Path) -> None:
    delivery = FolderChannel("sms", tmp_path).send(outgoing("sms", key="../escape"))

    assert delivery.status == "failed"
    assert list(tmp_path.iterdir()) == []


def test_call_task_is_created_once(tmp_path: Path, clock: FixedClock) -> None:
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text('{"key": "older"}\n{"key": "half-writ', encoding="utf-8")
    channel = CallTaskChannel(tasks, now=clock.now)

    with capture_logs() as logged:
        first = channel.send(outgoing("call", text="Appeler au sujet de F-2026-001"))
        second = channel.send(outgoing("call"))

    assert (first.status, second.status) == ("sent", "sent")
    lines = tasks.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3  # the older task, the torn line, ours
    task = json.loads(lines[-1])
    assert task == {
        "key": KEY,
        "company": "acme",
        "customer": "C001",
        "contact": "Jean Dupont",
        "phone": "+33612345678",
        "text": "Appeler au sujet de F-2026-001",
        "created_at": "2026-11-24T08:00:00+00:00",
    }
    created = [e for e in logged if e["event"] == "call_task_created"]
    assert created == [
        {
            "event": "call_task_created",
            "company": "acme",
            "customer": "C001",
            "key": KEY,
            "log_level": "info",
        }
    ]
    assert "612345678" not in json.dumps(logged)


def test_each_class_is_a_channel_of_its_kind(tmp_path: Path) -> None:
    channels: list[Channel] = [  # mypy checks the Channel protocol here
        SmtpChannel(settings(25)),
        webhook("https://provider.example/sms"),
        webhook("https://provider.example/letters", kind="letter"),
        brevo("https://api.brevo.com"),
        FolderChannel("email", tmp_path, email=settings(25)),
        CallTaskChannel(tmp_path / "tasks.jsonl"),
    ]

    assert [c.kind for c in channels] == [
        "email",
        "sms",
        "letter",
        "sms",
        "email",
        "call",
    ]
    assert list(tmp_path.iterdir()) == []  # building one has no side effect
