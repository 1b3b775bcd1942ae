"""Build the channels and the renderer a configuration names (the thin edges)."""

from __future__ import annotations

from pydantic import SecretStr

from sageconnect.clock import Clock
from sageconnect.config import Config
from sageconnect.dunning.channels.call import CallTaskChannel
from sageconnect.dunning.channels.folder import FolderChannel
from sageconnect.dunning.channels.http import (
    BrevoSmsChannel,
    BrevoSmsSettings,
    WebhookChannel,
    WebhookSettings,
)
from sageconnect.dunning.channels.smtp import SmtpChannel, SmtpSettings
from sageconnect.dunning.message import Channel
from sageconnect.dunning.render import Renderer, check_templates
from sageconnect.dunning.settings import (
    BrevoConfig,
    FolderConfig,
    SmtpConfig,
    TasksConfig,
    WebhookConfig,
)
from sageconnect.errors import ConfigError, Problem

CONNECT_TIMEOUT = 10.0  # seconds to reach a server; the configured timeout is the read


def build_channels(config: Config, clock: Clock) -> dict[str, Channel]:
    """One Channel per configured kind (email, sms, letter, call)."""
    if config.dunning is None:
        return {}
    built: dict[str, Channel] = {}
    for kind, spec in config.dunning.channels.items():
        if isinstance(spec, SmtpConfig):
            built[kind] = SmtpChannel(_smtp(spec), now=clock.now)
        elif isinstance(spec, WebhookConfig):
            if kind not in ("sms", "letter"):
                raise ConfigError(
                    [
                        Problem(
                            f"dunning.channels.{kind}.kind",
                            "'webhook'",
                            "smtp or folder for e-mail, tasks for calls",
                        )
                    ]
                )
            built[kind] = WebhookChannel(
                kind,
                WebhookSettings(
                    url=spec.url,
                    token=_secret(spec.token),
                    connect_timeout=min(CONNECT_TIMEOUT, spec.timeout),
                    read_timeout=spec.timeout,
                ),
            )
        elif isinstance(spec, BrevoConfig):
            built[kind] = BrevoSmsChannel(
                BrevoSmsSettings(
                    api_key=spec.api_key.get_secret_value(),
                    sender=spec.sender,
                    base_url=spec.url,
                    connect_timeout=min(CONNECT_TIMEOUT, spec.timeout),
                    read_timeout=spec.timeout,
                )
            )
        elif isinstance(spec, FolderConfig):
            email = (
                SmtpSettings(
                    host="localhost",
                    from_address=spec.from_address,
                    from_name=spec.from_name,
                )
                if kind == "email"
                else None
            )
            built[kind] = FolderChannel(
                kind, config.resolve_path(spec.path), email=email, now=clock.now
            )
        elif isinstance(spec, TasksConfig):
            built[kind] = CallTaskChannel(config.resolve_path(spec.path), now=clock.now)
    return built


def _smtp(spec: SmtpConfig) -> SmtpSettings:
    return SmtpSettings(
        host=spec.host,
        port=spec.port,
        security=spec.security,
        user=spec.user,
        password=_secret(spec.password),
        timeout=spec.timeout,
        from_address=spec.from_address,
        from_name=spec.from_name,
        reply_to=spec.reply_to,
        bcc=spec.bcc,
    )


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


def build_renderer(config: Config) -> Renderer:
    """Templates from [dunning] templates_dir first, then the shipped ones, each
    rendered once against a sample: a broken template stops here, not mid-run."""
    folder = config.dunning.templates_dir if config.dunning else None
    renderer = Renderer([config.resolve_path(folder)] if folder else [])
    check_templates(renderer)
    return renderer
