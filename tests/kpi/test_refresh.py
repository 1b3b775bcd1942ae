"""The daemon's KPI jobs: one snapshot per day, the HTML file, the report e-mail once."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, insert, select

from sageconnect.clock import FixedClock
from sageconnect.config import Config, load
from sageconnect.credit.notify import ManyTo
from sageconnect.dunning.message import Delivery
from sageconnect.jobs import sync_company
from sageconnect.kpi import mail_report, refresh_company
from sageconnect.kpi.activity import StepActivity
from sageconnect.kpi.history import trend
from sageconnect.kpi.mailing import _outgoing
from sageconnect.kpi.refresh import board_for, render_html
from sageconnect.store.engine import open_store
from sageconnect.store.queries import balances, company_ids
from sageconnect.store.tables import kpi_snapshots, report_mails
from servers import StartSmtp
from support import ROOT, write_config

FEC = ROOT / "fixtures" / "fec"


def demo(tmp_path: Path, store_url: str, extra: str = "") -> Config:
    reports = f'\n[reports]\nhtml = "out/report-{{company}}.html"\n{extra}'
    return load(write_config(tmp_path, store_url, str(FEC), reports))


def mail_settings(port: int, days: str = '["tue"]') -> str:
    return (
        "[reports.mail]\n"
        f'host = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
        'from_address = "sageconnect@acme.example"\n'
        'to = ["daf@acme.example", "dg@acme.example"]\n'
        f'days = {days}\nat = "08:30"\n'
    )


def snapshots(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(select(func.count()).select_from(kpi_snapshots)).scalar_one()
        )


def test_a_day_keeps_one_snapshot_however_often_it_is_refreshed(
    tmp_path: Path, store_url: str, engine: Engine, clock: FixedClock
) -> None:
    """Two refreshes on the 24th leave one row; the 25th adds a second; the trend has both."""
    config = demo(tmp_path, store_url)
    sync_company(config, "acme", engine, clock)
    first = refresh_company(config, "acme", engine, clock)
    refresh_company(config, "acme", engine, clock)
    assert (first.status, first.as_of, snapshots(engine)) == (
        "done",
        dt.date(2026, 11, 24),
        1,
    )
    clock.advance(dt.timedelta(days=1))
    refresh_company(config, "acme", engine, clock)
    with engine.connect() as conn:
        rows = trend(
            conn, company_ids(conn)["acme"], dt.date(2026, 1, 1), dt.date(2026, 12, 31)
        )
    assert [s.day for s in rows] == [dt.date(2026, 11, 24), dt.date(2026, 11, 25)]
    assert rows[0].ratio("dso_countback") is not None
    with engine.connect() as conn:
        ledger = balances(conn, company_ids(conn)["acme"], dt.date(2026, 11, 24))
    assert rows[0].receivable == sum((b.ledger_balance for b in ledger), Decimal(0))


def test_refresh_rewrites_the_html_report_named_in_the_config(
    tmp_path: Path, store_url: str, engine: Engine, clock: FixedClock
) -> None:
    """The file holds the three charts and nothing it would fetch from a network."""
    config = demo(tmp_path, store_url)
    sync_company(config, "acme", engine, clock)
    done = refresh_company(config, "acme", engine, clock)
    assert done.html == tmp_path / "out" / "report-acme.html"
    html = done.html.read_text(encoding="utf-8")
    for chart in ("chart-aged", "chart-dso", "chart-forecast"):
        assert f'<svg id="{chart}"' in html
    assert "<script" not in html
    assert "src=" not in html
    assert "href=" not in html
    assert html.count("http") == html.count('xmlns="http://www.w3.org/2000/svg"')


@pytest.mark.parametrize("case", [("", 0o640), ('html_mode = "0600"', 0o600)])
def test_the_report_file_is_readable_by_the_group_unless_told_otherwise(
    tmp_path: Path,
    store_url: str,
    engine: Engine,
    clock: FixedClock,
    case: tuple[str, int],
) -> None:
    """A daemon's report is for the finance team: owner and group may read it by
    default (not only the service account); html_mode narrows it."""
    setting, mode = case
    config = demo(tmp_path, store_url, setting)
    sync_company(config, "acme", engine, clock)
    done = refresh_company(config, "acme", engine, clock)
    assert done.html is not None
    assert done.html.stat().st_mode & 0o777 == mode


def test_the_report_is_mailed_once_per_slot(
    tmp_path: Path,
    store_url: str,
    engine: Engine,
    clock: FixedClock,
    smtp_server: StartSmtp,
) -> None:
    """Tuesday 09:00 in Paris, the 08:30 slot: one e-mail to both; again: nothing."""
    port, box = smtp_server()
    config = demo(tmp_path, store_url, mail_settings(port))
    sync_company(config, "acme", engine, clock)
    sent = mail_report(config, "acme", engine, clock)
    again = mail_report(config, "acme", engine, clock)
    assert (sent.status, sent.slot) == ("sent", "2026-11-24T08:30")
    assert (again.status, again.detail) == ("already", "sent")
    assert len(box.received) == 1
    mail = box.received[0]
    assert sorted(mail.rcpt_tos) == ["daf@acme.example", "dg@acme.example"]
    message = mail.message()
    assert "Créances clients" in str(message["Subject"])
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "creances-acme-2026-11-24.html"
    assert '<svg id="chart-forecast"' in attachment.get_content()
    assert snapshots(engine) == 1  # the figures mailed are the day's snapshot


@pytest.mark.parametrize(
    ("shift", "status"),
    [(dt.timedelta(hours=-1), "not_due"), (dt.timedelta(hours=13), "not_due")],
)
def test_no_mail_before_the_slot_nor_long_after_it(
    tmp_path: Path,
    clock: FixedClock,
    smtp_server: StartSmtp,
    shift: dt.timedelta,
    status: str,
) -> None:
    """Before 08:30 nothing is due; 13 hours after it (grace 12) the slot is missed."""
    port, box = smtp_server()
    store = f"sqlite:///{tmp_path / 's.db'}"
    config = demo(tmp_path, store, mail_settings(port))
    engine = open_store(store)
    try:
        sync_company(config, "acme", engine, clock)
        clock.advance(shift)
        assert mail_report(config, "acme", engine, clock).status == status
    finally:
        engine.dispose()
    assert box.received == []


def test_a_refused_connection_leaves_the_slot_to_the_next_cycle(
    tmp_path: Path, clock: FixedClock, smtp_server: StartSmtp
) -> None:
    """421 at MAIL FROM: nothing left, so the next cycle sends it, once."""
    port, box = smtp_server("mail421")
    store = f"sqlite:///{tmp_path / 's.db'}"
    config = demo(tmp_path, store, mail_settings(port))
    engine = open_store(store)
    try:
        sync_company(config, "acme", engine, clock)
        assert mail_report(config, "acme", engine, clock).status == "retry"
        box.mode = "accept"
        clock.advance(dt.timedelta(minutes=5))
        assert mail_report(config, "acme", engine, clock).status == "sent"
        assert mail_report(config, "acme", engine, clock).status == "already"
    finally:
        engine.dispose()
    assert len(box.received) == 1


def test_a_drop_after_the_body_is_uncertain_and_never_resent(
    tmp_path: Path, clock: FixedClock, smtp_server: StartSmtp
) -> None:
    """The server took the body and hung up: uncertain, and the next cycle sends nothing."""
    port, box = smtp_server("drop")
    store = f"sqlite:///{tmp_path / 's.db'}"
    config = demo(tmp_path, store, mail_settings(port))
    engine = open_store(store)
    try:
        sync_company(config, "acme", engine, clock)
        assert mail_report(config, "acme", engine, clock).status == "uncertain"
        box.mode = "accept"
        again = mail_report(config, "acme", engine, clock)
    finally:
        engine.dispose()
    assert (again.status, again.detail) == ("already", "uncertain")
    assert len(box.received) == 1


def test_a_claim_left_by_a_dead_process_becomes_uncertain(
    tmp_path: Path, clock: FixedClock, smtp_server: StartSmtp
) -> None:
    """A claimed row whose lease ran out is reported uncertain and not sent again."""
    port, box = smtp_server()
    store = f"sqlite:///{tmp_path / 's.db'}"
    config = demo(tmp_path, store, mail_settings(port))
    engine = open_store(store)
    try:
        sync_company(config, "acme", engine, clock)
        now = clock.now()
        with engine.begin() as conn:
            conn.execute(
                insert(report_mails).values(
                    company_id=company_ids(conn)["acme"],
                    slot="2026-11-24T08:30",
                    state="claimed",
                    attempt_id="dead",
                    claimed_at=now - dt.timedelta(minutes=20),
                    lease_until=now - dt.timedelta(minutes=5),
                )
            )
        outcome = mail_report(config, "acme", engine, clock)
    finally:
        engine.dispose()
    assert (outcome.status, outcome.detail) == ("already", "uncertain")
    assert box.received == []


def test_an_interrupt_after_the_message_went_out_does_not_free_the_slot(
    tmp_path: Path,
    clock: FixedClock,
    smtp_server: StartSmtp,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Ctrl+C while the server answers the body: the claim stays, nothing is resent."""
    port, box = smtp_server()
    store = f"sqlite:///{tmp_path / 's.db'}"
    config = demo(tmp_path, store, mail_settings(port))
    engine = open_store(store)
    transmit = ManyTo._transmit

    def interrupted(self: ManyTo, recipient: str, payload: bytes) -> Delivery:
        transmit(self, recipient, payload)
        raise KeyboardInterrupt

    try:
        sync_company(config, "acme", engine, clock)
        with monkeypatch.context() as patch:
            patch.setattr(ManyTo, "_transmit", interrupted)
            with pytest.raises(KeyboardInterrupt):
                mail_report(config, "acme", engine, clock)
        again = mail_report(config, "acme", engine, clock)
        clock.advance(dt.timedelta(minutes=20))
        later = mail_report(config, "acme", engine, clock)
    finally:
        engine.dispose()
    assert (again.status, again.detail) == ("already", "claimed")
    assert (later.status, later.detail) == ("already", "uncertain")
    assert len(box.received) == 1


def test_the_mail_summary_and_the_activity_table_write_decimals_the_french_way(
    tmp_path: Path, store_url: str, engine: Engine, clock: FixedClock
) -> None:
    """62,9 j and 83,3 %, as the report's cards, never 62.9 j or 12.5 %."""
    config = demo(tmp_path, store_url)
    sync_company(config, "acme", engine, clock)
    with engine.connect() as conn:
        company = company_ids(conn)["acme"]
        board = board_for(conn, config, "acme", company, dt.date(2026, 11, 24))
        board = dataclasses.replace(
            board,
            activity=[
                StepActivity(
                    step="first_reminder",
                    channel="email",
                    messages=1,
                    invoices=1,
                    reminded=Decimal("800.00"),
                    paid_after=Decimal("100.00"),
                    paid_share=Decimal("12.5"),
                )
            ],
        )
        html = render_html(conn, config, "acme", company, board=board, now=clock.now())
    assert '<td class="n">12,5 %</td>' in html
    message = _outgoing(
        board,
        html,
        key="k" * 32,
        code="acme",
        company_name="ACME",
        currency="EUR",
        to="daf@acme.example",
    )
    summary = message.rendered.text
    assert re.search(r"DSO \(count-back\) : \d+,\d j\n", summary)
    assert re.search(r"CEI : \d+,\d %\n", summary)
