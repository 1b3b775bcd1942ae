"""The job table: every job the daemon schedules, one entry each.

A job is a plain function ``(Context, company code) -> Outcome`` around the
functions the CLI also calls; it logs its own events and returns what
``status`` shows. Adding a job kind is one entry in :data:`JOBS` plus its
schedule key in ``daemon.settings.Jobs``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import Engine

from sageconnect import logs, shutdown, writeback
from sageconnect.clock import Clock
from sageconnect.config import Config
from sageconnect.credit.notify import AlertTarget, build_targets
from sageconnect.credit.run import check_company
from sageconnect.dunning.edges import build_channels, build_renderer
from sageconnect.dunning.message import Channel, Notice, Rendered
from sageconnect.dunning.send import send_company
from sageconnect.errors import ConfigError, SourceUnavailable
from sageconnect.jobs import sync_company
from sageconnect.kpi.refresh import mail_report, refresh_company
from sageconnect.writeback import writeback_company

EX_OK, EX_DATAERR, EX_UNAVAILABLE, EX_SOFTWARE, EX_TEMPFAIL = 0, 65, 69, 70, 75
EX_CONFIG = 78


@dataclass(slots=True)
class Context:
    """What every job needs, built once per daemon (channels and targets are
    checked at start-up: a bad one is a config error before any run)."""

    config: Config
    engine: Engine
    clock: Clock
    _channels: dict[str, Channel] | None = None
    _targets: dict[str, AlertTarget] | None = None
    _render: Callable[[Notice, tuple[str, ...]], Rendered] | None = None

    def prepare(self) -> None:
        """Build the delivery channels, templates and alert targets now."""
        if self.config.dunning is not None:
            self._channels = build_channels(self.config, self.clock)
            renderer = build_renderer(self.config)

            def render(notice: Notice, address: tuple[str, ...]) -> Rendered:
                return renderer.render(notice, address=address)

            self._render = render
        self._targets = build_targets(self.config, self.clock)
        if found := writeback.problems(self.config, self.clock):
            raise ConfigError(found)

    @property
    def channels(self) -> Mapping[str, Channel]:
        if self._channels is None:
            self.prepare()
        return self._channels or {}

    @property
    def render(self) -> Callable[[Notice, tuple[str, ...]], Rendered]:
        if self._render is None:
            self.prepare()
        assert self._render is not None  # noqa: S101 - prepared with [dunning]
        return self._render

    @property
    def targets(self) -> Mapping[str, AlertTarget]:
        if self._targets is None:
            self.prepare()
        return self._targets or {}


@dataclass(slots=True)
class Outcome:
    """How a run ended: ok | failed | refused | interrupted; its figures."""

    status: str = "ok"
    exit: int = EX_OK  # for `run --once`: the CLI's exit status convention
    detail: str | None = None
    figures: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class JobKind:
    """One kind of job."""

    name: str  # the key in [daemon.jobs]
    run: Callable[[Context, str], Outcome]
    enabled: Callable[[Config, str], bool] = lambda _config, _code: True
    in_once: bool = True  # part of `run --once`
    needs_sync: bool = True  # `run --once` skips it when the company's sync failed
    logs_errors: bool = False  # it logs its own failures with their traceback


def _sync(ctx: Context, code: str, *, full: bool = False) -> Outcome:
    try:
        report = sync_company(ctx.config, code, ctx.engine, ctx.clock, full=full)
    except SourceUnavailable as exc:
        return Outcome("failed", EX_UNAVAILABLE, detail=exc.reason)
    return Outcome(
        figures={
            "read": report.read,
            "rejected": report.rejected,
            "new_rejects": report.new_rejects,
        }
    )


def _send(ctx: Context, code: str) -> Outcome:
    report = send_company(
        ctx.config,
        code,
        ctx.engine,
        ctx.clock,
        channels=ctx.channels,
        render=ctx.render,
    )
    figures = {
        "sent": report.sent,
        "failed": report.failed,
        "uncertain": report.uncertain + report.lapsed,
        "retry": report.retry,
        "skipped": report.skipped,
    }
    if report.status in ("stale", "not_synced"):
        return Outcome("refused", EX_TEMPFAIL, detail=report.status, figures=figures)
    if report.status == "interrupted":
        return Outcome("interrupted", figures=figures)
    bad = report.uncertain or report.failed or report.lapsed
    outcome = Outcome(exit=EX_DATAERR if bad else EX_OK, figures=figures)
    if ctx.config.companies[code].writeback is not None and not shutdown.requested():
        _note_sent(ctx, code, outcome)
    return outcome


def _note_sent(ctx: Context, code: str, outcome: Outcome) -> None:
    """What was just sent reaches the accountant now. A failing target leaves
    its notes queued (the writeback job retries them), and even an unexpected
    error is one writeback_failed event: the send's run keeps what it sent."""
    try:
        noted = _writeback(ctx, code)
    except Exception as exc:  # noqa: BLE001 - a plug-in may raise anything
        logs.get().exception("writeback_failed", error_class=type(exc).__name__)
        failed = EX_CONFIG if isinstance(exc, ConfigError) else EX_SOFTWARE
        outcome.exit = max(outcome.exit, failed)
        outcome.detail = f"write-back failed: {type(exc).__name__}"
        return
    outcome.figures["notes_written"] = noted.figures.get("written", 0)
    outcome.figures["notes_pending"] = noted.figures.get("pending", 0)
    if noted.exit > outcome.exit:  # `run --once` exits 75 while notes wait
        outcome.exit, outcome.detail = noted.exit, noted.detail


def _writeback(ctx: Context, code: str) -> Outcome:
    report = writeback_company(ctx.config, code, ctx.engine, ctx.clock)
    figures = {
        "queued": report.queued,
        "written": report.written,
        "found": report.found,
        "failed": report.failed,
        "pending": report.pending,
    }
    if report.status == "not_synced":
        return Outcome("refused", EX_TEMPFAIL, detail=report.status, figures=figures)
    if report.status == "failing":
        detail = f"{report.pending} note(s) pending: {report.last_error}"
        return Outcome(exit=EX_TEMPFAIL, detail=detail, figures=figures)
    return Outcome(figures=figures)


def _alerts(ctx: Context, code: str) -> Outcome:
    report = check_company(ctx.config, code, ctx.engine, ctx.clock, targets=ctx.targets)
    figures = {
        "active": report.active,
        "raised": report.raised,
        "sent": report.sent,
        "failed": report.failed,
        "uncertain": report.uncertain + report.lapsed,
    }
    if report.status == "not_synced":
        return Outcome("refused", EX_TEMPFAIL, detail=report.status, figures=figures)
    if report.status == "interrupted":
        return Outcome("interrupted", figures=figures)
    bad = report.failed or report.uncertain or report.lapsed
    return Outcome(exit=EX_DATAERR if bad else EX_OK, figures=figures)


def _report(ctx: Context, code: str) -> Outcome:
    refreshed = refresh_company(ctx.config, code, ctx.engine, ctx.clock)
    if refreshed.status == "not_synced":
        return Outcome("refused", EX_TEMPFAIL, detail=refreshed.status)
    mailed = mail_report(ctx.config, code, ctx.engine, ctx.clock)
    figures = {"mailed": int(mailed.status == "sent")}
    if mailed.status in ("failed", "uncertain"):
        detail = f"report e-mail {mailed.status}"
        return Outcome(exit=EX_DATAERR, detail=detail, figures=figures)
    return Outcome(figures=figures)


def _full_sync(ctx: Context, code: str) -> Outcome:
    return _sync(ctx, code, full=True)


JOBS: tuple[JobKind, ...] = (
    JobKind("sync", _sync, needs_sync=False, logs_errors=True),
    # `run --once` reads the source already: no second, full read
    JobKind("full_sync", _full_sync, in_once=False, logs_errors=True),
    JobKind(
        "send",
        _send,
        enabled=lambda config, code: (
            config.dunning is not None and config.companies[code].dunning
        ),
    ),
    JobKind("alerts", _alerts, enabled=lambda config, _code: config.credit is not None),
    JobKind(
        "writeback",
        _writeback,
        enabled=lambda config, code: config.companies[code].writeback is not None,
        in_once=False,  # `run --once` writes back within send
    ),
    JobKind("report", _report),
)
