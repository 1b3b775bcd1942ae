"""Structured logs: the operator's interface.

One event per line with a stable snake_case name; JSON lines when standard error
is not a terminal, readable console lines otherwise. Logs go to standard error
(journald and service wrappers capture it) so that standard output carries only
what a command prints. Secrets and contact details are scrubbed before rendering.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping, Sequence
from typing import Any, TextIO

import structlog
from structlog.tracebacks import ExceptionDictTransformer

from sageconnect.model.records import Reject

_SECRET_KEY = re.compile(
    r"pass|pwd|secret|token|api[_-]?key|authorization|cookie", re.IGNORECASE
)
_CONN_SECRET = re.compile(r"((?:PWD|Password)\s*=\s*)(\{[^}]*\}|[^;]*)", re.IGNORECASE)
_URL_SECRET = re.compile(r"(://[^:/@\s]+:)([^@\s]+)(@)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def scrub(text: str) -> str:
    """Mask passwords in connection strings and URLs, and e-mail addresses."""
    text = _CONN_SECRET.sub(r"\1***", text)
    text = _URL_SECRET.sub(r"\1***\3", text)
    return _EMAIL.sub("<email>", text)


def redact(
    _logger: Any, _name: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: no secret or contact detail reaches a log line."""
    for key, value in list(event.items()):
        event[key] = "***" if _SECRET_KEY.search(key) else _clean(value)
    return event


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {
            k: "***" if _SECRET_KEY.search(str(k)) else _clean(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def configure(
    level: str = "info", fmt: str = "auto", stream: TextIO | None = None
) -> None:
    """Set up structlog once per process."""
    out = stream or sys.stderr
    json = fmt == "json" or (fmt == "auto" and not out.isatty())
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    if json:
        tail: list[Any] = [
            structlog.processors.ExceptionRenderer(
                ExceptionDictTransformer(show_locals=False)
            ),
            redact,
            structlog.processors.JSONRenderer(sort_keys=False, ensure_ascii=False),
        ]
    else:
        # the traceback as plain text before redaction, so that it is scrubbed
        # too, and without the local variables a rich traceback would show
        tail = [
            structlog.processors.format_exc_info,
            redact,
            structlog.dev.ConsoleRenderer(colors=out.isatty()),
        ]
    structlog.configure(
        processors=[*shared, *tail],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=False,
    )


def get(name: str = "sageconnect") -> Any:
    return structlog.get_logger(name)


REJECTS_LOGGED = 20  # per run: the rest are counted, and all are in `report rejects`


def rejected(rows: Sequence[Reject], limit: int = REJECTS_LOGGED) -> None:
    """One row_rejected event per row set aside, for the first ``limit`` of them."""
    log = get()
    for reject in rows[:limit]:
        log.warning(
            "row_rejected",
            file=reject.where,
            line=reject.line,
            field=reject.field,
            value=reject.value,
            reason=reject.reason,
        )
