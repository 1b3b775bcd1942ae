"""Reminder history written back into the accounting system, each note once.

The daemon and the CLI call :func:`writeback_company`; the writers, the queue
and the text live in the submodules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sageconnect.writeback.report import WritebackReport

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from sageconnect.clock import Clock
    from sageconnect.config import Config

__all__ = ["WritebackReport", "writeback_company"]


def writeback_company(
    config: Config, code: str, engine: Engine, clock: Clock
) -> WritebackReport:
    """Queue a note per reminder sent, then write what is due; never raises for
    a target that cannot be written (the notes stay queued, the report and the
    ``writeback_pending`` event say how many)."""
    from sageconnect.writeback.job import run  # noqa: PLC0415 - config imports us

    return run(config, code, engine, clock)
