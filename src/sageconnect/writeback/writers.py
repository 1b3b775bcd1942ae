"""The note writer a company's writeback table names: odbc, file or a plug-in.

Built before anything is written, so that a table that cannot work is a
ConfigError naming the key (``check`` and a daemon's start-up use it too).
"""

from __future__ import annotations

import codecs
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, cast
from zoneinfo import ZoneInfo

from sageconnect.clock import Clock, today
from sageconnect.config import Config, OdbcSource
from sageconnect.errors import ConfigError, MappingError, Problem
from sageconnect.mapping import registry
from sageconnect.mapping.spec import MappingSpec
from sageconnect.plugin import WriterContext
from sageconnect.readers.odbc import OdbcSettings
from sageconnect.writeback.file_writer import FileNoteWriter
from sageconnect.writeback.odbc_writer import OdbcNoteWriter
from sageconnect.writeback.settings import WritebackConfig

if TYPE_CHECKING:
    from sageconnect.mapping.protocol import NoteWriter

GROUP = "sageconnect.note_writers"


def build_writer(config: Config, code: str, clock: Clock) -> NoteWriter:
    """The writer a company's writeback table names; ConfigError when it cannot be."""
    company = config.companies[code]
    settings = company.writeback
    assert settings is not None  # noqa: S101 - the caller checked
    key = f"companies.{code}.writeback"
    if settings.writer == "file":
        tz = ZoneInfo(company.timezone)
        return FileNoteWriter(
            config.resolve_path(settings.folder or "."),
            code,
            lambda: today(clock, tz),
            encoding=settings.encoding,
            length=settings.length,
        )
    if settings.writer == "odbc":
        return _odbc_writer(config, code, settings, key)
    return _plugin_writer(config, code, settings, clock, key)


def _odbc_writer(
    config: Config, code: str, settings: WritebackConfig, key: str
) -> OdbcNoteWriter:
    from sageconnect.jobs import mapping_folders  # noqa: PLC0415 - jobs is heavy

    source = config.companies[code].source
    found = registry.resolve(
        source.mapping, mapping_folders(config), key=f"companies.{code}.source.mapping"
    )
    spec = found if isinstance(found, MappingSpec) else None
    if spec is None or spec.notes is None:
        raise ConfigError(
            [
                Problem(
                    f"{key}.writer",
                    "'odbc'",
                    f"a mapping with a [notes] section ({source.mapping} has none):"
                    ' or writer = "file"',
                )
            ]
        )
    if settings.entries and spec.notes.entries is None:
        raise ConfigError(
            [
                Problem(
                    f"{key}.entries", "true", f"a [notes.entries] in {source.mapping}"
                )
            ]
        )
    return OdbcNoteWriter(spec.notes, _connection(config, code, settings, spec, key))


def _connection(
    config: Config, code: str, settings: WritebackConfig, spec: MappingSpec, key: str
) -> OdbcSettings:
    """The writeback table's own connection, else the company's ODBC source's."""
    source = config.companies[code].source
    own = settings.own_connection()
    if own is None and not isinstance(source, OdbcSource):
        raise ConfigError(
            [Problem(f"{key}.writer", "'odbc'", "an ODBC source, or a dsn here")]
        )
    secret = settings.password if own else getattr(source, "password", None)
    source_encoding = None if own else getattr(source, "encoding", None)
    return OdbcSettings(
        connection_string=own or cast("OdbcSource", source).odbc_string(),
        password=secret.get_secret_value() if secret else None,
        login_timeout=getattr(source, "login_timeout", 15),
        query_timeout=min(getattr(source, "query_timeout", 60), 120),
        encoding=settings.connection_encoding or source_encoding or spec.odbc.encoding,
        name=f"{code}:notes",
        # the driver converts Unicode text to the column's code page, unless the
        # integrator names the code page the driver expects
        unicode_params=settings.connection_encoding is None,
    )


def _plugin_writer(
    config: Config, code: str, settings: WritebackConfig, clock: Clock, key: str
) -> NoteWriter:
    found = {ep.name: ep for ep in entry_points(group=GROUP)}
    entry = found.get(settings.writer)
    if entry is None:
        names = ", ".join(["odbc", "file", *sorted(found)])
        raise MappingError(
            [Problem(f"{key}.writer", repr(settings.writer), f"one of: {names}")]
        )
    context = WriterContext(
        company=code,
        options=dict(settings.options),
        now=clock.now,
        base_dir=config.base_dir,
    )
    try:
        writer = entry.load()(context)
    except Exception as exc:
        raise MappingError(
            [
                Problem(
                    f"{key}.writer", repr(entry.name), f"a plug-in that loads ({exc!r})"
                )
            ]
        ) from exc
    if not _is_note_writer(writer):
        raise MappingError(
            [
                Problem(
                    f"{key}.writer",
                    repr(entry.name),
                    "a NoteWriter (name, length: int or None, encoding: a codec;"
                    " exists, write, close)",
                )
            ]
        )
    return cast("NoteWriter", writer)


def _is_note_writer(writer: object) -> bool:
    """Whether a plug-in gave all a NoteWriter has: the text is fitted to its
    length and encoding before every write."""
    if not all(
        callable(getattr(writer, m, None)) for m in ("exists", "write", "close")
    ):
        return False
    length = getattr(writer, "length", "")
    encoding = getattr(writer, "encoding", None)
    if not getattr(writer, "name", None) or not isinstance(length, int | None):
        return False
    if not isinstance(encoding, str):
        return False
    try:
        codecs.lookup(encoding)
    except LookupError:
        return False
    return True
