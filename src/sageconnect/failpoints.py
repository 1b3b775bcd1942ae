"""Named crash points for reliability tests, no-ops unless SAGECONNECT_FAILPOINTS
names them.

``SAGECONNECT_FAILPOINTS="send.after_claim_commit=exit"`` makes ``hit`` end the
process on the spot with status 137 (no ``finally``, no atexit: like a kill -9),
so a test can check what the next, normal run does with what was left.
``name=sleep:SECONDS`` pauses there instead: a slow step a test can interrupt.
"""

from __future__ import annotations

import os
import time

EXIT_STATUS = 137


def hit(name: str) -> None:
    wanted = os.environ.get("SAGECONNECT_FAILPOINTS", "")
    if not wanted:
        return
    for spec in wanted.split(","):
        point, _, action = spec.partition("=")
        if point.strip() != name:
            continue
        action = action.strip()
        if action in {"", "exit"}:
            os._exit(EXIT_STATUS)
        if action.startswith("sleep:"):
            time.sleep(float(action.removeprefix("sleep:")))
