"""A job's schedule as an APScheduler trigger, and the slot due at a given time.

APScheduler wakes the daemon up; which slot a run stands for is decided here,
from the injected clock and the run history, so that a restart, a suspend or a
clock jump gives one catch-up run (coalesced), never a burst, and a slot
already run is never run again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from sageconnect.daemon.settings import When, interval

_YEAR = dt.timedelta(days=366)


@dataclass(frozen=True, slots=True)
class Schedule:
    """One job's schedule in a time zone."""

    when: When
    zone: ZoneInfo
    closed: Callable[[dt.date], bool] | None = None  # days a wall slot is skipped
    _wall: BaseTrigger | None = field(default=None, init=False, compare=False)

    def __post_init__(self) -> None:
        if self.when.every is None:  # built once: due() runs at every tick
            object.__setattr__(self, "_wall", self.trigger())

    @property
    def period(self) -> dt.timedelta | None:
        """The interval of an ``every`` schedule; None for wall-clock ones."""
        if self.when.every is None:
            return None
        return dt.timedelta(seconds=interval(self.when.every))

    def trigger(self) -> BaseTrigger:
        """The APScheduler trigger that wakes the daemon for this job."""
        when = self.when
        if when.every is not None:
            return IntervalTrigger(seconds=interval(when.every), timezone=self.zone)
        if when.cron is not None:
            return CronTrigger.from_crontab(when.cron, timezone=self.zone)
        assert when.at is not None  # noqa: S101 - When has exactly one
        days = None if when.days == "*" else when.days
        crons = [
            CronTrigger(
                hour=int(t[:2]), minute=int(t[3:]), day_of_week=days, timezone=self.zone
            )
            for t in when.at
        ]
        return crons[0] if len(crons) == 1 else OrTrigger(crons)

    def due(
        self, last: dt.datetime | None, now: dt.datetime, horizon: dt.timedelta
    ) -> dt.datetime | None:
        """The slot to run now, if any: the latest one after ``last`` and at most
        ``horizon`` old. Older missed slots are coalesced into it."""
        period = self.period
        if period is not None:  # elapsed time: due once a period has passed
            if self._closed(now):  # a business job waits for the next open day
                return None
            if last is None or now - last >= period:
                return now.replace(microsecond=0)
            return None
        since = now - horizon
        if last is not None and last > since:
            since = last
        found = None
        for moment in self._slots(since, now):
            found = moment
        return found

    def _closed(self, moment: dt.datetime) -> bool:
        return self.closed is not None and self.closed(
            moment.astimezone(self.zone).date()
        )

    def missed(self, last: dt.datetime | None, now: dt.datetime) -> bool:
        """Whether a wall-clock slot after ``last`` passed without a run."""
        if self.period is not None or last is None:
            return False
        return next(self._slots(last, now), None) is not None

    def _slots(self, after: dt.datetime, until: dt.datetime) -> Iterator[dt.datetime]:
        """The open wall-clock slots in (after, until], oldest first."""
        trigger = self._wall
        assert trigger is not None  # noqa: S101 - set for wall-clock schedules
        moment = trigger.get_next_fire_time(None, after + dt.timedelta(microseconds=1))
        while moment is not None and moment <= until:
            if not self._closed(moment):
                yield moment
            moment = trigger.get_next_fire_time(
                moment, moment + dt.timedelta(seconds=1)
            )

    def next_after(self, now: dt.datetime, last: dt.datetime | None) -> dt.datetime:
        """When it runs next (for ``status``)."""
        period = self.period
        if period is not None:
            moment = now if last is None else max(now, last + period)
            while self._closed(moment):  # from the next open day's midnight
                day = moment.astimezone(self.zone).date() + dt.timedelta(days=1)
                moment = dt.datetime.combine(day, dt.time(), self.zone)
            return moment
        return next(self._slots(now - dt.timedelta(microseconds=1), now + _YEAR))
