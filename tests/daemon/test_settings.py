"""[daemon] validation: every problem named by key, value and what was expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from sageconnect.config import load
from sageconnect.daemon.settings import When, unsafe_hours
from sageconnect.errors import ConfigError
from support import write_config


def _problems(tmp_path: Path, daemon: str) -> list[str]:
    config = write_config(tmp_path, "sqlite:///store.db", "fec", daemon)
    with pytest.raises(ConfigError) as caught:
        load(config)
    return [str(p) for p in caught.value.problems]


def _loads(tmp_path: Path, daemon: str) -> dict[str, When]:
    config = load(write_config(tmp_path, "sqlite:///store.db", "fec", daemon))
    return config.daemon.schedule("acme")


def test_business_job_in_the_paris_dst_gap_is_refused(tmp_path: Path) -> None:
    """send at 02:30 Paris: the key, the time and why, in one problem."""
    (problem,) = _problems(
        tmp_path, '[daemon.jobs]\nsend = { at = ["08:00", "02:30"] }'
    )
    assert ": daemon.jobs = " in problem
    assert "send.at = 08:00, 02:30: a time outside 02:00-03:00" in problem
    assert "Europe/Paris changes clocks then" in problem


def test_a_cron_hour_range_over_the_gap_is_refused_per_company(tmp_path: Path) -> None:
    """A company's alerts every hour from 1 to 4 include 02:xx: refused, named."""
    (problem,) = _problems(
        tmp_path, '[daemon.companies.acme]\nalerts = { cron = "0 1-4 * * mon-fri" }'
    )
    assert ": daemon.companies = " in problem
    assert "acme.alerts.cron = 0 1-4 * * mon-fri: a time outside 02:00-03:00" in problem


def test_syncs_and_zones_without_dst_may_use_the_night(tmp_path: Path) -> None:
    """A sync at 02:30 is harmless (it only reads), and in UTC 02:30 is an hour
    like any other."""
    slots = _loads(tmp_path, '[daemon.jobs]\nfull_sync = { at = "02:30", days = "*" }')
    assert slots["full_sync"].at == ("02:30",)
    utc = '[daemon]\ntimezone = "UTC"\n[daemon.jobs]\nsend = { at = "02:30" }'
    assert _loads(tmp_path, utc)["send"].at == ("02:30",)


def test_new_york_refuses_one_and_two_oclock(tmp_path: Path) -> None:
    """Where clocks go back from 02:00 to 01:00, 01:xx repeats: refused too."""
    assert unsafe_hours("America/New_York") == {1, 2}
    assert unsafe_hours("Europe/Paris") == {2}
    ny = '[daemon]\ntimezone = "America/New_York"\n[daemon.jobs]\nsend = { at = "01:15" }'
    (problem,) = _problems(tmp_path, ny)
    assert "send.at = 01:15: a time outside 01:00-02:00" in problem


@pytest.mark.parametrize(
    ("daemon", "expected"),
    [
        (
            'sync = { every = "15" }',
            "daemon.jobs.sync.every = '15' (expected a duration such as \"30s\"",
        ),
        (
            'send = { at = "9h" }',
            "daemon.jobs.send.at = '9h' (expected times of day as \"HH:MM\"",
        ),
        (
            'send = { at = "09:00", days = "weekdays" }',
            "daemon.jobs.send.days = 'weekdays' (expected day names",
        ),
        (
            'send = { cron = "0 9 * * 1-5" }',
            "daemon.jobs.send.cron = '0 9 * * 1-5' (expected weekdays by name",
        ),
        (
            'send = { cron = "0 9 * *" }',
            'expected five fields "minute hour day month weekday"',
        ),
        (
            'send = { every = "1h", at = "09:00" }',
            "expected exactly one of every, at, cron",
        ),
        ("send = true", "daemon.jobs.send = True (expected a schedule such as"),
    ],
)
def test_each_malformed_schedule_is_named(
    tmp_path: Path, daemon: str, expected: str
) -> None:
    """Durations, times, days, cron weekdays by number, both kinds at once."""
    problems = _problems(tmp_path, f"[daemon.jobs]\n{daemon}")
    assert any(expected in p for p in problems), problems


def test_an_unknown_job_for_a_company_is_named(tmp_path: Path) -> None:
    """[daemon.companies.acme] knows only the job table's names."""
    (problem,) = _problems(
        tmp_path, '[daemon.companies.acme]\nreports = { at = "07:00" }'
    )
    assert (
        "acme.reports: a job among sync, full_sync, send, alerts, writeback, report"
        in problem
    )


def test_a_company_can_turn_a_job_off_or_move_it(tmp_path: Path) -> None:
    """false turns a job off for one company; another schedule replaces the default."""
    slots = _loads(
        tmp_path,
        '[daemon.companies.acme]\nsend = false\nsync = { cron = "*/5 7-19 * * mon-fri" }',
    )
    assert "send" not in slots
    assert slots["sync"].cron == "*/5 7-19 * * mon-fri"
    assert slots["alerts"].at == ("08:30",)


def test_an_unknown_company_under_daemon_companies_fails_the_check(
    tmp_path: Path,
) -> None:
    """A misspelt [daemon.companies.acmee] is found by `check` (load), as the
    daemon would refuse it, with the companies there are."""
    (problem,) = _problems(tmp_path, "[daemon.companies.acmee]\nsend = false")
    assert "daemon.companies.acmee" in problem
    assert "acme" in problem.rsplit("acmee", 1)[1]
