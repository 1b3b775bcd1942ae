"""Channels: each delivers an Outgoing message once and says how it went.

``SmtpChannel`` (e-mail), ``WebhookChannel`` (SMS or letter through a generic
HTTP provider with an Idempotency-Key), ``BrevoSmsChannel`` (Brevo
transactional SMS), ``FolderChannel`` (writes files instead: demo, dry runs),
``CallTaskChannel`` (call tasks in a JSON-lines list). None retries by itself.

Each lives in its own module (``smtp``, ``http``, ``folder``, ``call``), imported
by what uses it: reading an SMTP address check does not load an HTTP client.
"""
