"""A channel that writes what would be sent into a folder (demo, dry runs).

One file per key: ``<key>.eml`` (the very e-mail the SMTP channel would send),
``<key>.pdf`` (the letter), ``<key>.txt`` (an SMS or a call task). Each is
written atomically (temporary file, then ``os.replace``); a file already there
for the key means it was sent, and is not rewritten.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from sageconnect.clock import SystemClock
from sageconnect.dunning.channels.checks import InvalidMessageError
from sageconnect.dunning.channels.http import (
    letter_pdf,
    normalise_french_phone,
    sms_parts,
    sms_text,
)
from sageconnect.dunning.channels.smtp import (
    Now,
    SmtpSettings,
    build_email,
    clean_detail,
    email_bytes,
    log_delivery,
    wrong_message,
)
from sageconnect.dunning.message import ChannelKind, Delivery, Outgoing

SUFFIXES: dict[ChannelKind, str] = {
    "email": ".eml",
    "letter": ".pdf",
    "sms": ".txt",
    "call": ".txt",
}


def write_atomically(target: Path, data: bytes, *, mode: int | None = None) -> None:
    """Write ``data`` to ``target`` whole or not at all (temp file + replace).

    The file is readable by its owner only unless ``mode`` says otherwise (a
    report for people other than the service account).
    """
    fd, tmp = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
    )
    done = False
    try:
        if mode is not None:
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        Path(tmp).replace(target)
        done = True
    finally:
        if not done:
            Path(tmp).unlink(missing_ok=True)


class FolderChannel:
    """Writes each message of one kind to ``folder`` instead of sending it.

    An e-mail folder needs the ``SmtpSettings`` production would use, to build
    the same message (From, Reply-To, Message-ID domain); ``now`` gives its
    Date header.
    """

    def __init__(
        self,
        kind: ChannelKind,
        folder: Path | str,
        *,
        email: SmtpSettings | None = None,
        now: Now | None = None,
    ) -> None:
        if kind not in SUFFIXES:
            raise ValueError("kind must be email, sms, letter or call")
        if kind == "email" and email is None:
            raise ValueError(
                "an e-mail folder needs the SMTP settings to build messages"
            )
        self.kind: ChannelKind = kind
        self.folder = Path(folder)
        self._email = email
        self._now = now or SystemClock().now

    def path_for(self, key: str) -> Path:
        return self.folder / f"{key}{SUFFIXES[self.kind]}"

    def send(self, message: Outgoing) -> Delivery:
        refused = wrong_message(message, self.kind)
        if refused is not None:
            return log_delivery("folder", message, refused)
        target = self.path_for(message.key)
        if target.exists():
            delivery = Delivery(
                "sent", provider_ref=target.name, detail="already written"
            )
            return log_delivery("folder", message, delivery)
        try:
            data = self._content(message)
        except InvalidMessageError as exc:
            return log_delivery("folder", message, Delivery("failed", detail=str(exc)))
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            write_atomically(target, data)
        except OSError as exc:  # nothing was written under the key's name
            detail = clean_detail(f"{type(exc).__name__}: {exc.strerror or ''}")
            return log_delivery("folder", message, Delivery("retry", detail=detail))
        delivery = Delivery("sent", provider_ref=target.name, detail="written")
        return log_delivery("folder", message, delivery)

    def _content(self, message: Outgoing) -> bytes:
        if self.kind == "email":
            assert self._email is not None  # noqa: S101 - checked in __init__
            return email_bytes(build_email(message, self._email, self._now()))
        if self.kind == "letter":
            pdf = letter_pdf(message)
            if not pdf:
                raise InvalidMessageError("no PDF letter to write")
            return pdf
        r = message.recipient
        if self.kind == "sms":
            parts = sms_parts(message)
            if isinstance(parts, Delivery):
                raise InvalidMessageError(parts.detail)
            phone, text = parts
        else:
            phone = normalise_french_phone(r.phone) or sms_text(r.phone)
            text = sms_text(message.rendered.text)
        to = " ".join(
            part for part in (sms_text(r.name), f"<{phone}>" if phone else "") if part
        )
        return f"To: {to}\n\n{text}\n".encode()
