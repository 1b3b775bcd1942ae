"""One daemon per store, or per company on a shared PostgreSQL store.

An SQLite store gets a file lock beside it (``<store>.lock``): a second daemon,
or a ``run --once`` while the daemon runs, refuses to start. On PostgreSQL each
company is a session advisory lock: several daemons may share the store, each
company's jobs run on the one daemon holding its lock, and a daemon that dies
releases its companies to the others (taken over at their next heartbeat).
"""

from __future__ import annotations

import hashlib
import os
import socket
import sys
from pathlib import Path
from typing import IO, Protocol

from sqlalchemy import Connection, Engine, make_url, text


class StoreLock(Protocol):
    """Which companies this process may run jobs for."""

    def acquire(self) -> list[str]:
        """Take what can be taken; return the companies held."""
        ...

    def holds(self, company: str) -> bool: ...

    def release(self) -> None: ...


def holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class FileLock:
    """An exclusive lock on a file: all companies or none."""

    def __init__(self, path: Path, companies: list[str]) -> None:
        self.path = path
        self.companies = companies
        self._file: IO[str] | None = None

    def acquire(self) -> list[str]:
        if self._file is not None:
            return self.companies
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+", encoding="utf-8")
        if not _try_lock(handle):
            handle.close()
            return []
        handle.seek(0)
        handle.truncate()
        handle.write(holder() + "\n")
        handle.flush()
        self._file = handle
        return self.companies

    def holds(self, company: str) -> bool:
        return self._file is not None and company in self.companies

    def owner(self) -> str:
        """Who holds the lock (host:pid), as it wrote itself in the file."""
        try:
            return self.path.read_text(encoding="utf-8").strip() or "unknown"
        except OSError:
            return "unknown"

    def release(self) -> None:
        if self._file is not None:
            _unlock(self._file)
            self._file.close()
            self._file = None


class AdvisoryLocks:
    """PostgreSQL session advisory locks, one per company, on one connection."""

    def __init__(self, engine: Engine, companies: list[str]) -> None:
        self.engine = engine
        self.companies = companies
        self.held: set[str] = set()
        self._conn: Connection | None = None

    def acquire(self) -> list[str]:
        if self._conn is None:
            self._conn = self.engine.connect()
        conn = self._conn
        where = conn.execute(text("SELECT current_database(), current_schema()")).one()
        for code in self.companies:
            if code in self.held:
                continue
            key = _key(f"{where[0]}/{where[1]}/{code}")
            got = conn.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": key}
            ).scalar()
            conn.commit()
            if got:
                self.held.add(code)
        return [c for c in self.companies if c in self.held]

    def holds(self, company: str) -> bool:
        return company in self.held

    def alive(self) -> bool:
        """Whether the connection holding the locks still answers."""
        if self._conn is None:
            return False
        try:
            self._conn.execute(text("SELECT 1"))
            self._conn.commit()
        except Exception:  # noqa: BLE001 - any failure means the locks are gone
            return False
        return True

    def release(self) -> None:
        if self._conn is None:
            return
        try:  # the pool keeps sessions open: let go of the locks explicitly
            self._conn.execute(text("SELECT pg_advisory_unlock_all()"))
            self._conn.commit()
        except Exception:  # noqa: BLE001 - a dead session holds nothing
            self._conn.invalidate()
        self._conn.close()
        self._conn = None
        self.held.clear()


class NoLock:
    """An in-memory store: nothing to share."""

    def __init__(self, companies: list[str]) -> None:
        self.companies = companies

    def acquire(self) -> list[str]:
        return self.companies

    def holds(self, company: str) -> bool:
        return company in self.companies

    def release(self) -> None:
        return None


def lock_for(url: str, engine: Engine, companies: list[str]) -> StoreLock:
    """The right lock for the store at ``url``."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        return AdvisoryLocks(engine, companies)
    if parsed.database in (None, "", ":memory:"):
        return NoLock(companies)
    return FileLock(Path(f"{parsed.database}.lock"), companies)


def _key(name: str) -> int:
    return int.from_bytes(
        hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True
    )


def _try_lock(handle: IO[str]) -> bool:
    if sys.platform == "win32":
        import msvcrt  # noqa: PLC0415 - Windows only

        try:
            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl  # noqa: PLC0415 - POSIX only

    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _unlock(handle: IO[str]) -> None:
    if sys.platform == "win32":
        import msvcrt  # noqa: PLC0415 - Windows only

        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
        return
    import fcntl  # noqa: PLC0415 - POSIX only

    fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
