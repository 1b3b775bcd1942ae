"""Every exception sageconnect raises, grouped by what the operator does next.

::

    SageconnectError
    ├── ConfigError          fix the config or a mapping file; raised at start-up,
    │   │                    lists every problem as key · value · expected
    │   └── MappingError     a mappings/*.toml is invalid, or a mapper name is unknown
    ├── SourceUnavailable    a source (file, ODBC) cannot be read now: transient,
    │                        the store is untouched and the next run retries
    ├── StoreError           the canonical store is unusable: the job stops
    ├── Stopped              the daemon was asked to stop: the step in flight
    │                        rolled back (sync) or finished and recorded (send)
    └── WriteBackError       a note could not be written back: it stays queued
                             and is tried again later (never twice: read first)

A malformed row is never an exception: it is a ``Reject`` value, counted in the
job's summary line.
"""

from __future__ import annotations

from dataclasses import dataclass


class SageconnectError(Exception):
    """Base of every error sageconnect raises on purpose."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One configuration problem: where it is, what was found, what was expected."""

    key: str
    value: str
    expected: str
    file: str = ""

    def __str__(self) -> str:
        where = f"{self.file}: " if self.file else ""
        return f"{where}{self.key} = {self.value} (expected {self.expected})"


class ConfigError(SageconnectError, ValueError):
    """The configuration cannot be used; every problem found is listed."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{len(problems)} configuration problem(s):\n{lines}")


class MappingError(ConfigError):
    """A mapping file is invalid, or a mapping name cannot be resolved."""


class SourceUnavailable(SageconnectError, OSError):  # noqa: N818 - named for the condition
    """A source cannot be read right now; nothing was changed in the store."""

    def __init__(self, source: str, reason: str, *, transient: bool = False) -> None:
        self.source = source
        self.reason = reason
        self.transient = transient
        self.sqlstate = ""
        super().__init__(f"{source}: {reason}")


class StoreError(SageconnectError, RuntimeError):
    """The canonical store cannot be opened or upgraded."""


class Stopped(SageconnectError):  # noqa: N818 - named for the condition
    """A stop was requested: the current step rolled back or finished cleanly."""

    def __init__(self) -> None:
        super().__init__("stop requested")


class WriteBackError(SageconnectError, OSError):
    """A note could not be written into the accounting system; it stays queued."""

    def __init__(self, target: str, reason: str, *, transient: bool = True) -> None:
        self.target = target
        self.reason = reason
        self.transient = transient
        super().__init__(f"{target}: {reason}")
