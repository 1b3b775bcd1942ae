"""What a service needs to know, read from the config: the command, the
account, the paths it writes, the credentials it loads."""

from __future__ import annotations

import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import make_url

from sageconnect.config import Config


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceSpec:
    """One service running ``sageconnect run -c CONFIG``."""

    name: str = "sageconnect"
    python: Path = field(default_factory=lambda: Path(sys.executable))
    config: Path
    user: str | None = "sageconnect"  # None: a systemd DynamicUser
    writable: tuple[Path, ...] = ()
    credentials: tuple[str, ...] = ()  # names given as { credential = "..." }
    credentials_dir: Path = Path("/etc/sageconnect/credentials")
    env_file: Path = Path("/etc/sageconnect/sageconnect.env")
    log_dir: str = r"%BASE%\logs"  # WinSW: where the rotated logs go


def spec_for(config: Config, path: Path, **chosen: Any) -> ServiceSpec:
    """The spec of a config file's service; ``chosen`` overrides the defaults."""
    path = path.resolve()
    return ServiceSpec(
        config=path,
        writable=tuple(sorted(set(writable_paths(config)))),
        credentials=tuple(sorted(credential_names(path))),
        **chosen,
    )


def writable_paths(config: Config) -> list[Path]:
    """Folders the daemon writes: the SQLite store's, outboxes, dropped files,
    note files and HTML reports."""
    found: list[Path] = []
    url = make_url(config.store_url())
    if url.get_backend_name() == "sqlite" and url.database not in (
        None,
        "",
        ":memory:",
    ):
        found.append(Path(url.database or "").parent)
    targets: list[Any] = []
    if config.dunning is not None:
        targets += config.dunning.channels.values()
        if config.dunning.pauses_folder:  # read files are moved to done/
            found.append(config.resolve_path(config.dunning.pauses_folder))
    if config.credit is not None:
        targets += config.credit.notify.values()
        if config.credit.covers_folder:
            found.append(config.resolve_path(config.credit.covers_folder))
    for target in targets:
        kind, where = getattr(target, "kind", ""), getattr(target, "path", None)
        if where and kind == "folder":
            found.append(config.resolve_path(where))
        elif where:  # a file appended to (call tasks): its folder
            found.append(config.resolve_path(where).parent)
    return found + _written_per_company(config)


def _written_per_company(config: Config) -> list[Path]:
    """The file note writer's folder and the HTML report's, company by company."""
    from sageconnect.kpi.refresh import html_path  # noqa: PLC0415 - kpi is heavy

    found: list[Path] = []
    for code, company in config.companies.items():
        notes = company.writeback
        if notes is not None and notes.writer == "file" and notes.folder:
            found.append(config.resolve_path(notes.folder))
        report = html_path(config, code)
        if report is not None:  # rewritten through a temporary file beside it
            found.append(report.parent)
    return found


def credential_names(path: Path) -> set[str]:
    """Every ``{ credential = "name" }`` in the config file."""
    names: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("credential"), str) and len(node) == 1:
                names.add(node["credential"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(tomllib.loads(path.read_text(encoding="utf-8")))
    return names
