from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from sageconnect.clock import FixedClock
from sageconnect.config import Config, load
from sageconnect.errors import SourceUnavailable
from sageconnect.jobs import sync_company
from sageconnect.mapping.documents import Row
from sageconnect.mapping.ledger import LedgerMapper
from sageconnect.model.records import DocKind, DueSource, Invoice, Record
from sageconnect.store.queries import balances, company_ids, open_rejects
from sageconnect.store.sync import SyncReport, ensure_company, sync
from sageconnect.store.tables import allocations, checkpoints, invoices, sync_runs
from support import fec_lines, write_config

INVOICE_1 = [
    "VE|Ventes|1|20260105|41100000|Clients|C1|Café de l'Étoile|FA1|20260105|Facture FA1|1200,00|0,00|A|20260210|20260105||",
    "VE|Ventes|1|20260105|70600000|Prestations|||FA1|20260105|Facture FA1|0,00|1200,00|||20260105||",
]
INVOICE_2 = [
    "VE|Ventes|2|20260110|41100000|Clients|C1|Café de l'Étoile|FA2|20260110|Facture FA2|600,00|0,00|||20260110||",
    "VE|Ventes|2|20260110|70600000|Prestations|||FA2|20260110|Facture FA2|0,00|600,00|||20260110||",
]
PAYMENT_1 = [
    "BQ|Banque|3|20260210|51200000|Banque|||REL1|20260210|Virement|1200,00|0,00|||20260210||",
    "BQ|Banque|3|20260210|41100000|Clients|C1|Café de l'Étoile|REL1|20260210|Virement FA1|0,00|1200,00|A|20260210|20260210||",
]
PARTIAL = [
    "BQ|Banque|4|20260215|51200000|Banque|||REL2|20260215|Virement|100,00|0,00|||20260215||",
    "BQ|Banque|4|20260215|41100000|Clients|C1|Café de l'Étoile|REL2|20260215|Acompte FA2|0,00|100,00|||20260215||",
]
BAD = "VE|Ventes|5|20261345|41100000|Clients|C1|Café|FA5|20260105|x|10,00|0,00|||20260105||"


@pytest.fixture
def setup(tmp_path: Path, store_url: str, engine: Engine) -> tuple[Config, Path]:
    folder = tmp_path / "fec"
    folder.mkdir()
    fec = folder / "123FEC20261231.txt"
    fec.write_text(
        fec_lines(*INVOICE_1, *INVOICE_2, *PAYMENT_1, *PARTIAL), encoding="utf-8"
    )
    return load(write_config(tmp_path, store_url, str(folder))), fec


def the_balance(
    engine: Engine, clock: FixedClock
) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    with engine.connect() as conn:
        (b,) = balances(conn, company_ids(conn)["acme"], clock.now().date())
    return b.ledger_balance, b.open_invoices, b.unapplied_credits, b.overdue


def origins(engine: Engine) -> list[tuple[str, str]]:
    """How each allocation was made, and its amount."""
    with engine.connect() as conn:
        rows = conn.execute(select(allocations.c.origin, allocations.c.amount))
        return sorted((origin, str(amount)) for origin, amount in rows)


def test_first_sync_loads_everything_and_letters_it(
    setup: tuple[Config, Path], engine: Engine, clock: FixedClock
) -> None:
    """Invoices, payments and the lettered pair arrive; the balance equals debit - credit.

    The unlettered "Acompte FA2" is matched to FA2 by the reference in its label.
    """
    config, _ = setup
    report = sync_company(config, "acme", engine, clock)
    assert (report.status, report.inserted, report.updated, report.rejected) == (
        "completed",
        5,
        0,
        0,
    )
    assert (report.allocations, report.matched) == (1, 1)
    assert the_balance(engine, clock) == (
        Decimal("500.00"),
        Decimal("500.00"),
        Decimal("0.00"),
        Decimal("500.00"),
    )
    assert origins(engine) == [("lettering", "1200.00"), ("match:reference", "100.00")]


def test_a_second_sync_changes_nothing(
    setup: tuple[Config, Path], engine: Engine, clock: FixedClock
) -> None:
    """Re-running on the same file skips it; forcing a full read finds 0 inserted, 0 updated."""
    config, _ = setup
    sync_company(config, "acme", engine, clock)
    again = sync_company(config, "acme", engine, clock)
    assert again.source_unchanged
    assert (again.inserted, again.updated, again.closed) == (0, 0, 0)
    forced = sync_company(config, "acme", engine, clock, full=True)
    assert not forced.source_unchanged
    assert (forced.read, forced.inserted, forced.updated, forced.closed) == (5, 0, 0, 0)
    assert origins(engine) == [("lettering", "1200.00"), ("match:reference", "100.00")]


def test_new_lettering_in_the_source_updates_allocations(
    setup: tuple[Config, Path], engine: Engine, clock: FixedClock
) -> None:
    """When the accountant letters the partial payment with FA2, lettering replaces our match."""
    config, fec = setup
    sync_company(config, "acme", engine, clock)
    assert ("match:reference", "100.00") in origins(engine)
    text = fec.read_text(encoding="utf-8")
    text = text.replace("|600,00|0,00|||20260110|", "|600,00|0,00|b|20260301|20260110|")
    text = text.replace("|0,00|100,00|||20260215|", "|0,00|100,00|b|20260301|20260215|")
    fec.write_text(text, encoding="utf-8")
    report = sync_company(config, "acme", engine, clock)
    assert (report.inserted, report.updated) == (0, 2)
    assert the_balance(engine, clock) == (
        Decimal("500.00"),
        Decimal("500.00"),
        Decimal("0.00"),
        Decimal("500.00"),
    )
    assert origins(engine) == [("lettering", "100.00"), ("lettering", "1200.00")]


def test_lettering_undone_in_the_source_gives_the_payment_back_to_matching(
    setup: tuple[Config, Path], engine: Engine, clock: FixedClock
) -> None:
    """The accountant un-letters FA1 and its payment: our matching takes over, by reference."""
    config, fec = setup
    sync_company(config, "acme", engine, clock)
    text = fec.read_text(encoding="utf-8")
    fec.write_text(text.replace("|A|20260210|", "|||"), encoding="utf-8")
    report = sync_company(config, "acme", engine, clock)
    assert (report.updated, report.allocations) == (2, 0)
    assert origins(engine) == [
        ("match:reference", "100.00"),
        ("match:reference", "1200.00"),
    ]
    assert the_balance(engine, clock)[:3] == (
        Decimal("500.00"),
        Decimal("500.00"),
        Decimal("0.00"),
    )


def test_entries_gone_from_the_source_are_closed_then_reopened(
    setup: tuple[Config, Path], engine: Engine, clock: FixedClock
) -> None:
    """An entry removed from the file leaves the balances; put back, it returns."""
    config, fec = setup
    sync_company(config, "acme", engine, clock)
    fec.write_text(fec_lines(*INVOICE_1, *INVOICE_2, *PAYMENT_1), encoding="utf-8")
    report = sync_company(config, "acme", engine, clock)
    assert report.closed == 1
    assert the_balance(engine, clock)[0] == Decimal("600.00")
    fec.write_text(
        fec_lines(*INVOICE_1, *INVOICE_2, *PAYMENT_1, *PARTIAL), encoding="utf-8"
    )
    report = sync_company(config, "acme", engine, clock)
    assert (report.inserted, report.updated) == (0, 1)
    assert the_balance(engine, clock)[0] == Decimal("500.00")


def test_rejects_are_kept_once_and_resolved_when_fixed(
    setup: tuple[Config, Path], engine: Engine, clock: FixedClock
) -> None:
    """A bad line is stored with file and line once, however often it is read, until fixed."""
    config, fec = setup
    fec.write_text(
        fec_lines(*INVOICE_1, *INVOICE_2, BAD, *PAYMENT_1, *PARTIAL), encoding="utf-8"
    )
    first = sync_company(config, "acme", engine, clock)
    assert (first.status, first.rejected, first.new_rejects) == (
        "completed_with_rejects",
        1,
        1,
    )
    again = sync_company(config, "acme", engine, clock, full=True)
    assert (again.rejected, again.new_rejects) == (1, 0)
    with engine.connect() as conn:
        company = company_ids(conn)["acme"]
        (reject,) = open_rejects(conn, company)
        assert (reject.file, reject.line, reject.field, reject.value) == (
            str(fec),
            6,
            "EcritureDate",
            "20261345",
        )
    fec.write_text(
        fec_lines(*INVOICE_1, *INVOICE_2, *PAYMENT_1, *PARTIAL), encoding="utf-8"
    )
    sync_company(config, "acme", engine, clock)
    with engine.connect() as conn:
        assert open_rejects(conn, company) == []
        assert len(open_rejects(conn, company, include_resolved=True)) == 1


def test_a_missing_source_leaves_the_store_untouched(
    setup: tuple[Config, Path], engine: Engine, clock: FixedClock
) -> None:
    """When the file vanishes, the sync fails clearly and closes nothing."""
    config, fec = setup
    sync_company(config, "acme", engine, clock)
    fec.unlink()
    with pytest.raises(SourceUnavailable, match="no file matches"):
        sync_company(config, "acme", engine, clock)
    assert the_balance(engine, clock)[0] == Decimal("500.00")


def test_a_crash_mid_read_rolls_back_data_and_checkpoint(
    setup: tuple[Config, Path],
    engine: Engine,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A failure halfway through a read commits nothing, and the run is recorded as failed."""
    config, _ = setup
    original = LedgerMapper.entries

    def broken(
        self: LedgerMapper,
        known: Callable[[int], bool] | None = None,
        *,
        rows: bool = False,
    ) -> Iterator[tuple[int | None, list[Record | Row]]]:
        for n, entry in enumerate(original(self, known, rows=rows)):
            if n == 3:
                raise OSError("disk went away")
            yield entry

    monkeypatch.setattr(LedgerMapper, "entries", broken)
    with pytest.raises(OSError, match="disk went away"):
        sync_company(config, "acme", engine, clock)
    with engine.connect() as conn:
        assert (
            conn.execute(select(func.count()).select_from(invoices)).scalar_one() == 0
        )
        assert (
            conn.execute(select(func.count()).select_from(checkpoints)).scalar_one()
            == 0
        )
        assert conn.execute(select(sync_runs.c.status, sync_runs.c.error)).one() == (
            "failed",
            "OSError: disk went away",
        )
    monkeypatch.setattr(LedgerMapper, "entries", original)
    report = sync_company(config, "acme", engine, clock)
    assert report.inserted == 5


class _ListReading:
    complete = False

    def __init__(self, records: list[Record]) -> None:
        self._records = records

    def records(self) -> Iterator[Record]:
        return iter(self._records)

    def checkpoint(self) -> str:
        return "list"


class _ListMapper:
    """A mapper over a fixed list: the smallest implementation of the contract."""

    name = "list"

    def __init__(self, records: list[Record]) -> None:
        self._records = records

    def read(self, checkpoint: str | None, *, full: bool) -> _ListReading:
        return _ListReading(self._records)


def test_an_invoice_of_an_unknown_customer_is_set_aside(
    engine: Engine, clock: FixedClock
) -> None:
    """A row naming a customer the source never gave is a reject, not a silent drop."""
    invoice = Invoice(
        key="k1",
        customer="GHOST",
        number="F1",
        kind=DocKind.INVOICE,
        issued=dt.date(2026, 1, 1),
        due=dt.date(2026, 1, 31),
        due_source=DueSource.SOURCE,
        amount=Decimal("10.00"),
    )
    company = ensure_company(engine, "acme", "ACME", "EUR")
    report = SyncReport(run_uid="r1", company="acme", source="list")
    sync(engine, company, report, _ListMapper([invoice]), clock.now)
    assert (report.status, report.inserted) == ("completed_with_rejects", 0)
    ((where, field, value),) = [(r.where, r.field, r.value) for r in report.rejects]
    assert (where, field, value) == ("invoices/k1", "customer", "GHOST")


def test_long_texts_from_the_source_are_kept_whole(
    tmp_path: Path, store_url: str, engine: Engine, clock: FixedClock
) -> None:
    """A 250-character label and a 100-character piece number load on every backend."""
    label, piece = "Libellé " * 31 + "xx", "P" * 100
    line = f"VE|Ventes|1|20260105|41100000|Clients|C1|Café|{piece}|20260105|{label}|10,00|0,00|||20260105||"
    counterpart = f"VE|Ventes|1|20260105|70600000|Ventes|||{piece}|20260105|x|0,00|10,00|||20260105||"
    (tmp_path / "fec").mkdir()
    (tmp_path / "fec" / "1FEC20261231.txt").write_text(
        fec_lines(line, counterpart), encoding="utf-8"
    )
    config = load(write_config(tmp_path, store_url, str(tmp_path / "fec")))
    assert sync_company(config, "acme", engine, clock).inserted == 2
    with engine.connect() as conn:
        assert conn.execute(select(invoices.c.label, invoices.c.number)).one() == (
            label,
            piece,
        )


def test_an_entry_split_in_two_places_is_reported_not_fatal(
    tmp_path: Path, store_url: str, engine: Engine, clock: FixedClock
) -> None:
    """Lines of one entry found apart give one reject naming the key; the rest loads."""
    first = "VE|Ventes|1|20250510|41100000|Clients|C1|Café|F1|20250510|F1|100,00|0,00|||20250510||"
    other = "VE|Ventes|2|20250511|41100000|Clients|C2|Bar|F2|20250511|F2|50,00|0,00|||20250511||"
    again = "VE|Ventes|1|20250510|41100000|Clients|C1|Café|F1b|20250510|F1b|30,00|0,00|||20250510||"
    (tmp_path / "fec").mkdir()
    (tmp_path / "fec" / "1FEC20251231.txt").write_text(
        fec_lines(first, other, again), encoding="utf-8"
    )
    config = load(write_config(tmp_path, store_url, str(tmp_path / "fec")))
    report = sync_company(config, "acme", engine, clock)
    assert (report.status, report.inserted) == ("completed_with_rejects", 4)
    (reject,) = report.rejects
    assert reject.where == "invoices/VE/1/20250510/C1/1"
    assert "2 rows share this key" in reject.reason
    with engine.connect() as conn:
        assert conn.execute(
            select(invoices.c.number).order_by(invoices.c.number)
        ).scalars().all() == ["F1", "F2"]


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (dt.date(2026, 1, 31), ("1800.00", "1800.00", "0.00", "0.00")),
        (dt.date(2026, 2, 12), ("600.00", "600.00", "0.00", "600.00")),
        # the deposit of 2026-02-15, matched to FA2 from the day it was received
        (dt.date(2026, 2, 20), ("500.00", "500.00", "0.00", "500.00")),
    ],
)
def test_balances_as_of_a_past_day(
    setup: tuple[Config, Path],
    engine: Engine,
    clock: FixedClock,
    day: dt.date,
    expected: tuple[str, str, str, str],
) -> None:
    """A past date counts only what was issued, received and lettered by then."""
    config, _ = setup
    sync_company(config, "acme", engine, clock)
    with engine.connect() as conn:
        (b,) = balances(conn, company_ids(conn)["acme"], day)
    found = (b.ledger_balance, b.open_invoices, b.unapplied_credits, b.overdue)
    assert found == tuple(Decimal(x) for x in expected)
