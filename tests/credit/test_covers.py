"""Insurer decisions dropped as files, and the source's insured limit, as cover history.

What the credit manager sees: a Coface CSV in French or an API export in JSON
becomes one row per decision, a reduction delivered later is a second row (the
first one stays), a file dropped twice adds nothing, a bad row is set aside
with its file, line and field, and a CT_Assurance that moves is history too.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine, func, select

from sageconnect.clock import FixedClock
from sageconnect.credit.alerts import Cover
from sageconnect.credit.covers import import_covers, source_covers
from sageconnect.credit.gather import cover_history
from sageconnect.model.records import Customer, Record, Reject
from sageconnect.store.sync import SyncReport, ensure_company, new_run_uid, sync
from sageconnect.store.tables import covers

TODAY = dt.date(2026, 11, 24)  # the clock fixture's day
ETOILE = Customer(code="C1", name="Café de l'Étoile", siren="552 100 554")
MULLER = Customer(code="C2", name="Garage Müller", siren="732829320")
TWIN_A = Customer(code="T1", name="Twin North", siren="443061841")
TWIN_B = Customer(code="T2", name="Twin South", siren="443 061 841")
CUSTOMERS = (ETOILE, MULLER, TWIN_A, TWIN_B)


class _ListReading:
    complete = True

    def __init__(self, records: list[Record]) -> None:
        self._records = records

    def records(self) -> Iterator[Record]:
        return iter(self._records)

    def checkpoint(self) -> str:
        return "list"


class _ListMapper:
    """A mapper over a fixed list: each read is a complete snapshot."""

    name = "list"

    def __init__(self, records: list[Record]) -> None:
        self._records = records

    def read(self, checkpoint: str | None, *, full: bool) -> _ListReading:
        return _ListReading(self._records)


def load(engine: Engine, clock: FixedClock, *records: Record) -> int:
    """Sync ``records`` (a complete snapshot) into the company; return its id."""
    company = ensure_company(engine, "acme", "ACME", "EUR")
    report = SyncReport(run_uid=new_run_uid(), company="acme", source="list")
    sync(engine, company, report, _ListMapper(list(records)), clock.now)
    assert report.status == "completed", report.rejects
    return company


def drop(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


def run_import(
    engine: Engine, company: int, folder: Path, clock: FixedClock
) -> tuple[int, list[Reject]]:
    with engine.begin() as conn:
        return import_covers(conn, company, folder, clock.now())


def stored(engine: Engine, company: int) -> list[tuple[object, ...]]:
    """Every cover row, in insertion order, without ids and times."""
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                select(
                    covers.c.customer_id,
                    covers.c.insurer,
                    covers.c.limit_amount,
                    covers.c.decision,
                    covers.c.reference,
                    covers.c.valid_from,
                    covers.c.valid_until,
                    covers.c.origin,
                )
                .where(covers.c.company_id == company)
                .order_by(covers.c.id)
            )
        ]


def history(
    engine: Engine, company: int, as_of: dt.date = TODAY
) -> dict[str, list[Cover]]:
    with engine.connect() as conn:
        return cover_history(conn, company, as_of)


def count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(covers)).scalar_one())


def test_a_french_csv_with_french_decimals_is_stored_and_moved_to_done(
    engine: Engine, clock: FixedClock, tmp_path: Path
) -> None:
    """Client;Assureur;Limite;Décision... with a BOM and '12 500,00': two decisions."""
    company = load(engine, clock, *CUSTOMERS)
    folder = tmp_path / "covers"
    drop(
        folder,
        "coface-2026-11.csv",
        "\ufeffClient;Assureur;Limite;Décision;Numéro;Début;Fin\n"
        "C1;Coface;12 500,00;Accordé;AG-1;01/01/2026;31/12/2026\n"
        "C2;Coface;3\u202f000,50;Partiel;AG-2;2026-02-01;\n",
    )
    assert run_import(engine, company, folder, clock) == (2, [])
    assert history(engine, company) == {
        "C1": [
            Cover(
                insurer="Coface",
                limit=Decimal("12500.00"),
                decision="approved",
                reference="AG-1",
                valid_from=dt.date(2026, 1, 1),
                valid_until=dt.date(2026, 12, 31),
            )
        ],
        "C2": [
            Cover(
                insurer="Coface",
                limit=Decimal("3000.50"),
                decision="partial",
                reference="AG-2",
                valid_from=dt.date(2026, 2, 1),
            )
        ],
    }
    assert {r[-1] for r in stored(engine, company)} == {"file"}
    assert [p.name for p in folder.iterdir() if p.is_file()] == []
    assert (folder / "done" / "coface-2026-11.csv").exists()


def test_a_cp1252_comma_separated_file_with_other_french_names(
    engine: Engine, clock: FixedClock, tmp_path: Path
) -> None:
    """code,assureur,agrement,decision,date_effet,echeance in Windows-1252: 'Réduit'."""
    company = load(engine, clock, *CUSTOMERS)
    folder = tmp_path / "covers"
    drop(
        folder,
        "atradius.csv",
        "code,assureur,agrement,decision,reference,date_effet,echeance\n"
        'C1,Atradius,"8 000,00",Réduit,R-9,2026-06-01,\n'
        "C2,Atradius,,Résilié,R-10,15/06/2026,\n",
        encoding="cp1252",
    )
    assert run_import(engine, company, folder, clock) == (2, [])
    found = history(engine, company)
    assert [(c.limit, c.decision, c.valid_from) for c in found["C1"]] == [
        (Decimal("8000.00"), "reduced", dt.date(2026, 6, 1))
    ]
    assert [(c.limit, c.decision, c.valid_from) for c in found["C2"]] == [
        (Decimal("0.00"), "cancelled", dt.date(2026, 6, 15))
    ]


def test_a_json_api_export_by_code_or_siren(
    engine: Engine, clock: FixedClock, tmp_path: Path
) -> None:
    """The buyer by its code, or by its SIREN only; amounts as text or as numbers."""
    company = load(engine, clock, *CUSTOMERS)
    folder = tmp_path / "covers"
    export = {
        "covers": [
            {
                "buyer": {"code": "C1", "siren": "552100554"},
                "insurer": "Allianz Trade",
                "amount": "12500.00",
                "currency": "EUR",
                "decision": "approved",
                "reference": "EOL-1",
                "effective_date": "2026-01-01",
                "expiry_date": "2026-12-31T23:59:59Z",
            },
            {
                "buyer": {"siren": "732 829 320"},
                "insurer": "Allianz Trade",
                "amount": 4000,
                "decision": "Preliminary assessment",
                "reference": "EOL-2",
                "effective_date": "2026-03-01",
            },
        ]
    }
    drop(folder, "eolis.json", json.dumps(export))
    assert run_import(engine, company, folder, clock) == (2, [])
    found = history(engine, company)
    assert found["C1"] == [
        Cover(
            insurer="Allianz Trade",
            limit=Decimal("12500.00"),
            reference="EOL-1",
            valid_from=dt.date(2026, 1, 1),
            valid_until=dt.date(2026, 12, 31),
        )
    ]
    assert [(c.limit, c.decision, c.reference) for c in found["C2"]] == [
        (Decimal("4000.00"), "provisional", "EOL-2")
    ]


def test_a_reduction_delivered_later_is_a_second_history_row(
    engine: Engine, clock: FixedClock, tmp_path: Path
) -> None:
    """20 000 approved in January, reduced to 8 000 from June: both kept, in order."""
    company = load(engine, clock, *CUSTOMERS)
    folder = tmp_path / "covers"
    header = "customer;insurer;limit;decision;reference;valid_from\n"
    drop(folder, "a.csv", header + "C1;Coface;20000;approved;AG-1;2026-01-01\n")
    assert run_import(engine, company, folder, clock) == (1, [])
    drop(folder, "b.csv", header + "C1;Coface;8000;reduction;AG-1;2026-06-01\n")
    assert run_import(engine, company, folder, clock) == (1, [])
    assert [
        (c.limit, c.decision, c.valid_from) for c in history(engine, company)["C1"]
    ] == [
        (Decimal("20000.00"), "approved", dt.date(2026, 1, 1)),
        (Decimal("8000.00"), "reduced", dt.date(2026, 6, 1)),
    ]
    # in March, the reduction was still to come
    assert [c.limit for c in history(engine, company, dt.date(2026, 3, 1))["C1"]] == [
        Decimal("20000.00")
    ]


def test_the_same_decisions_delivered_again_add_nothing(
    engine: Engine, clock: FixedClock, tmp_path: Path
) -> None:
    """The same file dropped again, or the same row in another file: stored once."""
    company = load(engine, clock, *CUSTOMERS)
    folder = tmp_path / "covers"
    text = (
        "customer;insurer;limit;decision;reference;valid_from\n"
        "C1;Coface;20000;approved;AG-1;2026-01-01\n"
        "C1;Coface;20000,00;accordé;AG-1;01/01/2026\n"  # the same, written otherwise
        "C2;Coface;5000;approved;AG-2;2026-01-01\n"
    )
    drop(folder, "portfolio.csv", text)
    assert run_import(engine, company, folder, clock) == (2, [])
    drop(folder, "portfolio.csv", text)
    assert run_import(engine, company, folder, clock) == (0, [])
    drop(folder, "portfolio-copy.csv", text)
    assert run_import(engine, company, folder, clock) == (0, [])
    assert count(engine) == 2
    assert sorted(p.name for p in (folder / "done").iterdir()) == [
        "portfolio-copy.csv",
        "portfolio.csv",
    ]


def test_files_being_written_hidden_or_of_other_kinds_are_left_alone(
    engine: Engine, clock: FixedClock, tmp_path: Path
) -> None:
    company = load(engine, clock, *CUSTOMERS)
    folder = tmp_path / "covers"
    row = "customer;insurer;limit\nC1;Coface;1000\n"
    for name in ("next.csv.part", "next.csv.tmp", ".hidden.csv", "notes.txt"):
        drop(folder, name, row)
    assert run_import(engine, company, folder, clock) == (0, [])
    assert sorted(p.name for p in folder.iterdir()) == [
        ".hidden.csv",
        "next.csv.part",
        "next.csv.tmp",
        "notes.txt",
    ]


def test_bad_rows_are_set_aside_with_file_line_and_field(
    engine: Engine, clock: FixedClock, tmp_path: Path
) -> None:
    """Unknown customer, bad amount, date and decision: set aside; the good row stays."""
    company = load(engine, clock, *CUSTOMERS)
    folder = tmp_path / "covers"
    drop(
        folder,
        "a-bad.csv",
        "Client;Assureur;Limite;Décision;Début\n"
        "C9;Coface;1000;approved;2026-01-01\n"
        "C1;Coface;douze;approved;2026-01-01\n"
        "\n"  # a blank line is skipped, and still counted
        "C1;Coface;1000;approved;31/02/2026\n"
        "C1;Coface;1000;peut-être;2026-01-01\n"
        "C2;Coface;1000;approved;2026-01-01\n"
        "C2;;1000;approved;2026-01-01\n"
        "C2;Coface;;approved;2026-01-01\n"
        "C2;Coface;-5;approved;2026-01-01\n",
    )
    drop(
        folder,
        "b-bad.json",
        json.dumps(
            {
                "covers": [
                    {"buyer": {"code": "C1"}, "insurer": "X", "amount": "1.5.0"},
                    {
                        "buyer": {"code": "C1"},
                        "insurer": "X",
                        "amount": "9",
                        "currency": "USD",
                    },
                    "not a cover",
                    {"buyer": {}, "insurer": "X", "amount": "9"},
                ]
            }
        ),
    )
    drop(folder, "c-no-limit.csv", "customer;insurer\nC1;Coface\n")
    drop(folder, "d-broken.json", '{"covers": [')
    added, rejects = run_import(engine, company, folder, clock)
    assert added == 1
    assert [(r.where, r.line, r.field, r.value) for r in rejects] == [
        ("a-bad.csv", 2, "Client", "C9"),
        ("a-bad.csv", 3, "Limite", "douze"),
        ("a-bad.csv", 5, "Début", "31/02/2026"),
        ("a-bad.csv", 6, "Décision", "peut-être"),
        ("a-bad.csv", 8, "Assureur", ""),
        ("a-bad.csv", 9, "Limite", ""),
        ("a-bad.csv", 10, "Limite", "-5"),
        ("b-bad.json", 1, "amount", "1.5.0"),
        ("b-bad.json", 2, "currency", "USD"),
        ("b-bad.json", 3, "covers", "not a cover"),
        ("b-bad.json", 4, "buyer.code", ""),
        ("c-no-limit.csv", 1, "limit", ""),
        ("d-broken.json", 0, "file", ""),
    ]
    reasons = [r.reason for r in rejects]
    assert reasons[0] == "a customer of this company"
    assert reasons[3].startswith("a decision: approved, partial, provisional")
    assert reasons[8] == "a limit in EUR, the books'"
    assert reasons[11].startswith("no limit column")
    assert [r.decision for r in history(engine, company)["C2"]] == ["approved"]
    assert sorted(p.name for p in (folder / "done").iterdir()) == [
        "a-bad.csv",
        "b-bad.json",
        "c-no-limit.csv",
        "d-broken.json",
    ]


def test_a_siren_finds_the_customer_when_the_code_is_empty(
    engine: Engine, clock: FixedClock, tmp_path: Path
) -> None:
    """A SIRET's first nine digits, spaces ignored; unknown or shared SIRENs set aside."""
    company = load(engine, clock, *CUSTOMERS)
    folder = tmp_path / "covers"
    drop(
        folder,
        "sirens.csv",
        "customer;siren;insurer;limit\n"
        ";552 100 554 00013;Coface;1000\n"
        ";732829320;Coface;2000\n"
        ";999999999;Coface;3000\n"
        ";443061841;Coface;4000\n"
        ";12345;Coface;5000\n"
        ";;Coface;6000\n",
    )
    added, rejects = run_import(engine, company, folder, clock)
    assert added == 2
    assert [(r.line, r.field, r.value, r.reason) for r in rejects] == [
        (4, "siren", "999999999", "the SIREN of a customer"),
        (
            5,
            "siren",
            "443061841",
            "the SIREN of several customers (T1, T2): give the code",
        ),
        (6, "siren", "12345", "a SIREN (9 digits) or SIRET (14)"),
        (7, "customer", "", "the customer's code, or its SIREN"),
    ]
    found = history(engine, company)
    assert [c.limit for c in found["C1"]] == [Decimal("1000.00")]
    assert [c.limit for c in found["C2"]] == [Decimal("2000.00")]


def test_the_source_insured_limit_becomes_history_as_it_moves(
    engine: Engine, clock: FixedClock
) -> None:
    """CT_Assurance 20 000, then 15 000, back to 20 000, then removed: four rows."""

    def source_with(limit: str | None) -> int:
        muller = Customer(
            code="C2",
            name="Garage Müller",
            insured_limit=Decimal(limit) if limit else None,
        )
        return load(engine, clock, ETOILE, muller)

    def record() -> int:
        with engine.begin() as conn:
            return source_covers(conn, company, "Coface", clock.now())

    company = source_with("20000.00")
    assert (record(), record()) == (1, 0)
    source_with("15000.00")
    assert (record(), record()) == (1, 0)
    source_with("20000.00")
    assert (record(), record()) == (1, 0)
    source_with(None)
    assert (record(), record()) == (1, 0)
    source_with("0")  # zero: still no cover, nothing new
    assert record() == 0
    assert [
        (c.insurer, c.limit, c.decision, c.reference, c.valid_from)
        for c in history(engine, company)["C2"]
    ] == [
        ("Coface", Decimal("20000.00"), "approved", "source", TODAY),
        ("Coface", Decimal("15000.00"), "approved", "source", TODAY),
        ("Coface", Decimal("20000.00"), "approved", "source", TODAY),
        ("Coface", Decimal("0.00"), "cancelled", "source", TODAY),
    ]
    assert "C1" not in history(engine, company)  # never insured: no row
    assert {r[-1] for r in stored(engine, company)} == {"source"}


def test_source_covers_and_files_live_side_by_side(
    engine: Engine, clock: FixedClock, tmp_path: Path
) -> None:
    """Both are recorded; once the insurer's own decision is on file, it is the one
    alerts read (the source's CT_Assurance is kept as history, not used)."""
    company = load(
        engine,
        clock,
        Customer(code="C1", name="Café", insured_limit=Decimal("10000.00")),
    )
    folder = tmp_path / "covers"
    drop(
        folder,
        "a.csv",
        "customer;insurer;limit;valid_from\nC1;Coface;9000;2026-01-01\n",
    )
    with engine.begin() as conn:
        assert source_covers(conn, company, "Coface", clock.now()) == 1
        assert import_covers(conn, company, folder, clock.now()) == (1, [])
        assert source_covers(conn, company, "Coface", clock.now()) == 0
    assert [(c.limit, c.reference) for c in history(engine, company)["C1"]] == [
        (Decimal("9000.00"), ""),
    ]
    with engine.connect() as conn:
        origins = conn.execute(select(covers.c.origin).order_by(covers.c.id))
        assert origins.scalars().all() == ["source", "file"]
