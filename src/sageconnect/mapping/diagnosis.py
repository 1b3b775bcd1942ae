"""Self-checks a mapper can run before a sync: what sageconnect doctor shows."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Check:
    """One thing checked, and what was found."""

    check: str
    ok: bool
    detail: str
