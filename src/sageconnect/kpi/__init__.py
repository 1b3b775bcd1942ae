"""Receivables KPIs and reports: aged balance, DSO, CEI, forecast, priority list.

The pure modules (``aging``, ``ratios``, ``forecast``, ``priority``,
``activity``, ``dashboard``) compute from plain values and a date; ``gather``
reads them from the store; ``history`` keeps one snapshot per day; ``html``
renders the report; ``refresh`` holds the two jobs the daemon schedules:
``refresh_company`` and ``mail_report``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["mail_report", "refresh_company"]


def __getattr__(name: str) -> Any:
    # Imported lazily: sageconnect.config reads kpi.settings, and the jobs
    # import the config; a plain import here would make that a cycle.
    if name in __all__:
        from sageconnect.kpi import refresh  # noqa: PLC0415

        return getattr(refresh, name)
    raise AttributeError(name)
