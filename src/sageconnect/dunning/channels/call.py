"""Call reminders become tasks in a JSON-lines task list, one per key.

Each line of ``tasks.jsonl`` is one task: ``key``, ``company``, ``customer``,
``contact``, ``phone``, ``text``, ``created_at``. A key already in the list is
not added again, so sending twice creates one task.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from sageconnect import logs
from sageconnect.clock import SystemClock
from sageconnect.dunning.channels.http import normalise_french_phone, sms_text
from sageconnect.dunning.channels.smtp import (
    Now,
    clean_detail,
    log_delivery,
    wrong_message,
)
from sageconnect.dunning.message import ChannelKind, Delivery, Outgoing


def task_keys(path: Path) -> tuple[set[str], bool]:
    """Keys already in the task list, and whether its last line is unfinished.

    Lines that are not JSON (a crash mid-write, a hand edit) are skipped.
    """
    try:
        content = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return set(), False
    keys: set[str] = set()
    for line in content.splitlines():
        try:
            task = json.loads(line)
        except ValueError:
            continue
        if isinstance(task, dict) and isinstance(task.get("key"), str):
            keys.add(task["key"])
    return keys, bool(content) and not content.endswith("\n")


class CallTaskChannel:
    """Appends a call task to ``tasks_file``; ``now`` dates it."""

    def __init__(self, tasks_file: Path | str, *, now: Now | None = None) -> None:
        self.kind: ChannelKind = "call"
        self.tasks_file = Path(tasks_file)
        self._now = now or SystemClock().now

    def send(self, message: Outgoing) -> Delivery:
        refused = wrong_message(message, "call")
        if refused is not None:
            return log_delivery("call", message, refused)
        path = self.tasks_file
        r = message.recipient
        task = {
            "key": message.key,
            "company": message.company,
            "customer": message.customer,
            "contact": r.name,
            "phone": normalise_french_phone(r.phone) or sms_text(r.phone),
            "text": message.rendered.text,
            "created_at": self._now().isoformat(),
        }
        line = json.dumps(task, ensure_ascii=False) + "\n"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            keys, unfinished = task_keys(path)
            if message.key in keys:
                delivery = Delivery(
                    "sent", provider_ref=path.name, detail="already in the list"
                )
                return log_delivery("call", message, delivery)
            with path.open("a", encoding="utf-8", newline="\n") as out:
                out.write(("\n" if unfinished else "") + line)
                out.flush()
                os.fsync(out.fileno())
        except OSError as exc:  # a partial line is skipped when read back
            detail = clean_detail(f"{type(exc).__name__}: {exc.strerror or ''}")
            return log_delivery("call", message, Delivery("retry", detail=detail))
        logs.get().info(
            "call_task_created",
            company=message.company,
            customer=message.customer,
            key=message.key,
        )
        return Delivery("sent", provider_ref=path.name, detail="task created")
