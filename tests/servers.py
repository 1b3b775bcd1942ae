"""Real servers on loopback for tests: SMTP (aiosmtpd) and an HTTP provider, both
able to misbehave on demand."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


def free_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# --- a real SMTP server ------------------------------------------------------


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes

    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Mailbox:
    """aiosmtpd handler: records what reaches DATA, misbehaves on demand."""

    mode: str = "accept"  # mail421 | rcpt550 | drop | body554 | body451
    received: list[Received] = field(default_factory=list)
    refused: str = "compta@client.example"  # rcpt550: the mailbox refused

    async def handle_MAIL(  # noqa: N802 - aiosmtpd's hook name
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        if self.mode == "mail421":
            return "421 4.3.2 Service not available, closing channel"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(  # noqa: N802
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if self.mode == "rcpt550" and address == self.refused:
            return f"550 5.1.1 <{address}>: Recipient address rejected"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        assert envelope.mail_from is not None
        assert envelope.original_content is not None
        self.received.append(
            Received(
                envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content
            )
        )
        if self.mode == "drop":
            # RFC 1047's window: the body is here, the 250 never leaves.
            assert isinstance(server.transport, asyncio.WriteTransport)
            server.transport.abort()
        if self.mode == "body554":
            return "554 5.7.1 Message rejected as spam"
        if self.mode == "body451":
            return "451 4.7.1 Greylisted, try again later"
        return "250 2.0.0 Ok: queued as 4XyZ123"


StartSmtp = Callable[..., tuple[int, Mailbox]]


@pytest.fixture
def smtp_server() -> Iterator[StartSmtp]:
    """Starts aiosmtpd on loopback: start(mode, **smtp_options) -> (port, box)."""
    controllers: list[Controller] = []

    def start(mode: str = "accept", **options: Any) -> tuple[int, Mailbox]:
        box = Mailbox(mode)
        port = free_port()
        controller = Controller(
            box, hostname="127.0.0.1", port=port, server_hostname="mx.test", **options
        )
        controller.start()
        controllers.append(controller)
        return port, box

    yield start
    for controller in controllers:
        controller.stop()


# --- a real HTTP provider ------------------------------------------------------


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


class Provider(ThreadingHTTPServer):
    """Records each POST; answers from ``replies`` (default 200 {"id": "p-1"}).

    A reply status of 0 means: never answer (sleep until released); -1: close
    the connection without answering.
    """

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), ProviderHandler)
        self.received: list[Request] = []
        self.replies: list[tuple[int, dict[str, Any]]] = []
        self.release = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class ProviderHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        server = self.server
        assert isinstance(server, Provider)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        headers = {k.lower(): v for k, v in self.headers.items()}
        server.received.append(Request(self.path, headers, json.loads(body)))
        status, reply = (
            server.replies.pop(0) if server.replies else (200, {"id": "p-1"})
        )
        if status == 0:
            server.release.wait(5)
            return
        if status == -1:
            self.close_connection = True
            return
        data = json.dumps(reply).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:  # the client gave up
            pass

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


@pytest.fixture
def provider() -> Iterator[Provider]:
    server = Provider()
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()
    thread.join()
