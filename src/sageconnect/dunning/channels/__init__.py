"""Channels: each delivers an Outgoing message once and says how it went.

``SmtpChannel`` (e-mail), ``WebhookChannel`` (SMS or letter through a generic
HTTP provider with an Idempotency-Key), ``BrevoSmsChannel`` (Brevo
transactional SMS), ``FolderChannel`` (writes files instead: demo, dry runs),
``CallTaskChannel`` (call tasks in a JSON-lines list). None retries by itself.
"""

from sageconnect.dunning.channels.call import CallTaskChannel
from sageconnect.dunning.channels.folder import FolderChannel
from sageconnect.dunning.channels.http import (
    BrevoSmsChannel,
    BrevoSmsSettings,
    WebhookChannel,
    WebhookSettings,
    normalise_french_phone,
)
from sageconnect.dunning.channels.smtp import (
    InvalidMessageError,
    SmtpChannel,
    SmtpSettings,
    build_email,
    email_bytes,
)

__all__ = [
    "BrevoSmsChannel",
    "BrevoSmsSettings",
    "CallTaskChannel",
    "FolderChannel",
    "InvalidMessageError",
    "SmtpChannel",
    "SmtpSettings",
    "WebhookChannel",
    "WebhookSettings",
    "build_email",
    "email_bytes",
    "normalise_french_phone",
]
