"""sageconnect as a real subprocess: a command run to its end (``child``, e.g. to be
killed at a failpoint), or a daemon whose JSON log lines are read live."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

Event = dict[str, Any]


def child(config: Path, *argv: str, failpoint: str = "") -> int:
    """Run ``sageconnect ARGV -c CONFIG`` in a child process; its exit status
    (137 when a failpoint killed it)."""
    env = {**os.environ, "SAGECONNECT_FAILPOINTS": failpoint}
    code = "import sys; from sageconnect.cli import main; sys.exit(main(sys.argv[1:]))"
    done = subprocess.run(
        [sys.executable, "-c", code, *argv, "-c", str(config)],
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    return done.returncode


class Daemon:
    """``sageconnect run -c CONFIG`` in a child process."""

    def __init__(
        self, config: Path, *args: str, env: dict[str, str] | None = None
    ) -> None:
        self.events: list[Event] = []
        self.lines: list[str] = []
        self.stderr = ""
        self._seen: dict[tuple[str, tuple[tuple[str, Any], ...]], int] = {}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sageconnect", "run", "-c", str(config), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        )
        assert self.proc.stdout is not None
        self._reader = threading.Thread(
            target=self._read, args=(self.proc.stdout,), daemon=True
        )
        self._reader.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.append(line)
            if line.startswith("{"):
                event = json.loads(line)
                self.events.append(event)

    def wait_for(self, name: str, timeout: float = 30.0, **fields: Any) -> Event:
        """The next matching event not returned yet (events are kept in order)."""
        key = (name, tuple(sorted(fields.items())))
        seen = self._seen.get(key, 0)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [
                e
                for e in list(self.events)
                if e["event"] == name and all(e.get(k) == v for k, v in fields.items())
            ]
            if len(found) > seen:
                self._seen[key] = seen + 1
                return found[seen]
            if self.proc.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.05)
        raise AssertionError(
            f"no {name} {fields} within {timeout}s; got {self.names()}\n{self.read_stderr()}"
        )

    def stop(
        self, sig: int = signal.SIGTERM, timeout: float = 20.0
    ) -> tuple[int, float]:
        """Send ``sig``; the exit status and the seconds it took to exit."""
        began = time.monotonic()
        self.proc.send_signal(sig)
        try:
            status = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"still running {timeout}s after {signal.Signals(sig).name};"
                f" got {self.names()}\n{self.stacks()}"
            ) from None
        took = time.monotonic() - began
        self._reader.join(timeout=5)
        return status, took

    def wait(self, timeout: float = 30.0) -> int:
        status = self.proc.wait(timeout=timeout)
        self._reader.join(timeout=5)
        return status

    def read_stderr(self) -> str:
        if (
            self.proc.poll() is not None
            and self.proc.stderr is not None
            and not self.stderr
        ):
            self.stderr = self.proc.stderr.read()
        return self.stderr

    def stacks(self) -> str:
        """Every thread's stack (the daemon's SIGUSR1), then its stderr; killed."""
        if self.proc.poll() is None and hasattr(signal, "SIGUSR1"):
            self.proc.send_signal(signal.SIGUSR1)
            time.sleep(1.0)
        self.kill_only()
        return self.read_stderr()

    def kill_only(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def kill(self) -> None:
        self.kill_only()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()

    def names(self) -> list[str]:
        return [e["event"] for e in self.events]
