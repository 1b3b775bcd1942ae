"""The [daemon] section: when each job runs, per company if need be.

Times are wall-clock times in ``[daemon] timezone`` (Europe/Paris by default).
A business job (anything but the syncs) may not be set in an hour the time zone
skips or repeats when clocks change (02:00-03:00 in Paris): it would be skipped
one day in March and run twice one day in October.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cache
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from sageconnect.fields import TimeZone

# The syncs only read, and the report is rewritten (its e-mail keeps its own slots):
# a run skipped or repeated at a clock change does no harm, holidays included.
NOT_BUSINESS = frozenset({"sync", "full_sync", "report"})
_DAY = r"(mon|tue|wed|thu|fri|sat|sun)"
_DAYS = re.compile(rf"^(\*|{_DAY}(-{_DAY})?(,{_DAY}(-{_DAY})?)*)$")
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_EVERY = re.compile(r"^(\d+)(s|m|h)$")
_UNIT = {"s": 1, "m": 60, "h": 3600}


def interval(every: str) -> int:
    """Seconds in "30s", "15m", "2h"."""
    found = _EVERY.match(every)
    if found is None:
        raise ValueError(every)
    return int(found.group(1)) * _UNIT[found.group(2)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class When(_Model):
    """One job's schedule: exactly one of every, at (with days), cron."""

    every: str | None = None  # "30s", "15m", "2h": elapsed time, no clock involved
    at: tuple[str, ...] | None = None  # "09:00" or ["09:00", "14:30"]
    days: str = "mon-fri"  # with at: day names (mon-fri, mon,wed,fri) or "*"
    cron: str | None = None  # "minute hour day month weekday", weekdays by name
    off: bool = False  # `job = false` in the file

    @model_validator(mode="before")
    @classmethod
    def _false_is_off(cls, value: object) -> object:
        if value is False:
            return {"off": True}
        if not isinstance(value, dict | When):
            raise ValueError(  # noqa: TRY004 - pydantic reports ValueErrors
                'a schedule such as { at = "09:00" }, or false (off)'
            )
        return value

    @field_validator("at", mode="before")
    @classmethod
    def _listed(cls, value: object) -> object:
        return (value,) if isinstance(value, str) else value

    @field_validator("every")
    @classmethod
    def _every(cls, value: str | None) -> str | None:
        if value is not None and not (_EVERY.match(value) and interval(value) > 0):
            raise ValueError('a duration such as "30s", "15m" or "2h"')
        return value

    @field_validator("at")
    @classmethod
    def _at(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is not None and (not value or not all(map(_TIME.match, value))):
            raise ValueError('times of day as "HH:MM", e.g. "09:00"')
        return value

    @field_validator("days")
    @classmethod
    def _days(cls, value: str) -> str:
        if not _DAYS.match(value):
            raise ValueError('day names such as "mon-fri" or "mon,wed,fri", or "*"')
        return value

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is None:
            return value
        fields = value.split()
        if len(fields) != 5:  # noqa: PLR2004 - the crontab format
            raise ValueError('five fields "minute hour day month weekday"')
        if re.search(r"\d", fields[4]):
            raise ValueError("weekdays by name (mon-fri): numbers differ between crons")
        from apscheduler.triggers.cron import CronTrigger  # noqa: PLC0415

        try:
            CronTrigger.from_crontab(value, timezone="UTC")
        except ValueError as exc:
            raise ValueError(f"a valid crontab expression ({exc})") from exc
        return value

    @model_validator(mode="after")
    def _one(self) -> When:
        given = [n for n in ("every", "at", "cron") if getattr(self, n) is not None]
        if len(given) != (0 if self.off else 1):
            raise ValueError("exactly one of every, at, cron")
        return self

    def hours(self) -> frozenset[int]:
        """The wall-clock hours it may run in (empty for an interval)."""
        if self.at is not None:
            return frozenset(int(t[:2]) for t in self.at)
        if self.cron is not None:
            return _expand(self.cron.split()[1], 0, 23)
        return frozenset()


Slot = When  # `job = false` gives When(off=True)


class Jobs(_Model):
    """Every job kind the daemon knows, with its default schedule."""

    sync: Slot = When(every="15m")  # incremental read of the source
    full_sync: Slot = When(at=("01:30",), days="*")  # nightly full reconciliation
    send: Slot = When(at=("09:00",))  # plan and send reminders, business days
    alerts: Slot = When(at=("08:30",))  # credit alerts, business days
    # notes still queued after a failure (each send also writes back right after)
    writeback: Slot = When(every="30m")
    # KPI snapshot and HTML report; e-mails it when a [reports.mail] slot is due
    report: Slot = When(every="1h")


class DaemonConfig(_Model):
    """``sageconnect run``: schedules, heartbeat, catch-up after downtime."""

    timezone: TimeZone = "Europe/Paris"
    heartbeat_seconds: int = Field(default=60, ge=1, le=3600)
    # a run missed by less than this (downtime, suspend) is caught up once
    misfire_grace_minutes: int = Field(default=360, ge=1, le=7 * 24 * 60)
    workers: int | None = Field(default=None, ge=1, le=16)  # 1 on SQLite, 4 on PG
    # business jobs (send, alerts) skip French public holidays and these days
    holidays: Literal["FR", "none"] = "FR"
    closed_days: tuple[dt.date, ...] = ()
    jobs: Jobs = Jobs()
    companies: dict[str, dict[str, Slot]] = {}  # per company: job = schedule

    @field_validator("jobs")
    @classmethod
    def _jobs_safe(cls, value: Jobs, info: ValidationInfo) -> Jobs:
        _check_gap(dict(value), info.data.get("timezone"), "")
        return value

    @field_validator("companies")
    @classmethod
    def _overrides(
        cls, value: dict[str, dict[str, Slot]], info: ValidationInfo
    ) -> dict[str, dict[str, Slot]]:
        for code, slots in value.items():
            unknown = sorted(set(slots) - set(Jobs.model_fields))
            if unknown:
                known = ", ".join(Jobs.model_fields)
                raise ValueError(f"{code}.{unknown[0]}: a job among {known}")
            _check_gap(slots, info.data.get("timezone"), f"{code}.")
        return value

    def schedule(self, code: str) -> dict[str, When]:
        """A company's jobs that are on, with their schedules."""
        slots: dict[str, Slot] = {**dict(self.jobs), **self.companies.get(code, {})}
        return {name: when for name, when in slots.items() if not when.off}


def _check_gap(slots: dict[str, Slot], zone: str | None, prefix: str) -> None:
    if zone is None:
        return
    unsafe = unsafe_hours(zone)
    for name, when in slots.items():
        if when.off or name in NOT_BUSINESS:
            continue
        bad = sorted(when.hours() & unsafe)
        if bad:
            shown = (
                f"at = {', '.join(when.at)}"
                if when.at is not None
                else f"cron = {when.cron}"
            )
            raise ValueError(
                f"{prefix}{name}.{shown}: a time outside {bad[0]:02d}:00-"
                f"{bad[0] + 1:02d}:00 ({zone} changes clocks then: the run would be"
                " skipped one day and doubled another)"
            )


@cache
def unsafe_hours(zone: str) -> frozenset[int]:
    """Wall-clock hours a clock change skips or repeats in ``zone`` (2025-2030)."""
    tz = ZoneInfo(zone)
    hours: set[int] = set()
    start = dt.datetime(2025, 1, 1, 12, tzinfo=dt.UTC)
    for day in range(6 * 366):
        noon = start + dt.timedelta(days=day)
        before, after = (
            noon.astimezone(tz).utcoffset(),
            (noon + dt.timedelta(days=1)).astimezone(tz).utcoffset(),
        )
        if before == after:
            continue
        for step in range(24 * 4):  # find the instant, a quarter of an hour at a time
            at = noon + dt.timedelta(minutes=15 * step)
            if at.astimezone(tz).utcoffset() != before:
                assert before is not None  # noqa: S101
                assert after is not None  # noqa: S101
                low, high = sorted((at + before, at + after))
                moment = low
                while moment < high:
                    hours.add(moment.hour)
                    moment += dt.timedelta(minutes=15)
                break
    return frozenset(hours)


def _expand(field: str, low: int, high: int) -> frozenset[int]:
    """The values a crontab field names (``*``, lists, ranges, steps)."""
    values: set[int] = set()
    for part in field.split(","):
        span, _, step = part.partition("/")
        if span == "*":
            first, last = low, high
        elif "-" in span:
            a, b = span.split("-", 1)
            first, last = int(a), int(b)
        else:
            first = last = int(span)
            if step:
                last = high
        values.update(range(first, last + 1, int(step or 1)))
    return frozenset(values)
