"""Secrets come from references, so config.toml can be shared without them.

A secret in config.toml is either a reference table or, discouraged, an inline
string::

    password = { env = "SAGECONNECT_DB_PASSWORD" }    # environment variable
    password = { file = "/etc/sageconnect/db.pass" }  # file holding the secret
    password = { credential = "db_password" }         # systemd credential
    password = "inline"                               # owner-only file

They are resolved once, at load, into ``SecretStr`` values that never print.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationInfo, model_validator
from pydantic.functional_validators import BeforeValidator

SECRET_KEYS = ("password", "pwd", "secret", "token", "api_key", "apikey")


class SecretRef(BaseModel):
    """Where to find a secret: exactly one of env, file, credential."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    env: str | None = None
    file: Path | None = None
    credential: str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> SecretRef:
        given = [n for n in ("env", "file", "credential") if getattr(self, n)]
        if len(given) != 1:
            raise ValueError("exactly one of env, file, credential")
        return self

    def resolve(self, base_dir: Path | None = None) -> str:
        """Read the secret, or raise ValueError saying what is missing.

        A relative file path is taken from ``base_dir`` (the config's folder).
        """
        if self.env:
            value = os.environ.get(self.env)
            if value is None:
                raise ValueError(f"environment variable {self.env} to be set")
            return value
        if self.credential:
            folder = os.environ.get("CREDENTIALS_DIRECTORY")
            if not folder:
                raise ValueError(
                    f"credential {self.credential}: CREDENTIALS_DIRECTORY to be set "
                    "(systemd LoadCredential=)"
                )
            return _read_secret_file(Path(folder) / self.credential)
        assert self.file is not None  # noqa: S101 - guaranteed by _exactly_one
        path = self.file.expanduser()
        if base_dir is not None and not path.is_absolute():
            path = base_dir / path
        return _read_secret_file(path)


def _read_secret_file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as exc:
        raise ValueError(f"a readable secret file at {path} ({exc.strerror})") from exc


def _resolve(value: Any, info: ValidationInfo) -> Any:
    if isinstance(value, SecretStr):
        return value
    if isinstance(value, dict):
        base = (info.context or {}).get("base_dir")
        return SecretStr(SecretRef.model_validate(value).resolve(base))
    if isinstance(value, str):
        return SecretStr(value)
    raise ValueError('a secret reference such as { env = "NAME" }')


Secret = Annotated[SecretStr, BeforeValidator(_resolve)]
"""A config field holding a secret, given inline or by reference."""


def has_inline_secret(raw: Any) -> list[str]:
    """Dotted keys of secret-named fields given as inline strings in raw TOML."""
    found: list[str] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                here = f"{path}.{key}" if path else key
                if key.lower() in SECRET_KEYS and isinstance(value, str):
                    found.append(here)
                else:
                    walk(value, here)

    walk(raw, "")
    return found
