"""Reminder history written back into the accounting system, each note once.

The daemon and the CLI call :func:`writeback_company`; the writers, the queue
and the text live in the submodules.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from sageconnect.writeback.report import WritebackReport

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from sageconnect.clock import Clock
    from sageconnect.config import Config
    from sageconnect.errors import Problem

__all__ = ["WritebackReport", "problems", "writeback_company"]


def writeback_company(
    config: Config, code: str, engine: Engine, clock: Clock, *, now: bool = False
) -> WritebackReport:
    """Queue a note per reminder sent, then write what is due (``now``: also the
    notes still waiting out a retry delay); never raises for a target that
    cannot be written (the notes stay queued, the report and the
    ``writeback_pending`` event say how many). ConfigError when the company's
    writeback table cannot work (see :func:`problems`)."""
    from sageconnect.writeback.job import run  # noqa: PLC0415 - config imports us

    return run(config, code, engine, clock, now=now)


def problems(config: Config, clock: Clock) -> list[Problem]:
    """What stops each company's write-back, found without connecting (for
    ``check`` and a daemon's start-up): a mapping without [notes], an unknown
    or broken plug-in, entries without [notes.entries]."""
    from sageconnect.errors import ConfigError  # noqa: PLC0415 - config imports us
    from sageconnect.writeback.writers import build_writer  # noqa: PLC0415

    found: list[Problem] = []
    for code, company in config.companies.items():
        if company.writeback is None:
            continue
        try:
            writer = build_writer(config, code, clock)
        except ConfigError as exc:
            found += exc.problems
            continue
        # a plug-in failing to let go of its target is not a configuration
        # mistake, and must not keep reminders from going out
        with contextlib.suppress(Exception):
            writer.close()
    return found
