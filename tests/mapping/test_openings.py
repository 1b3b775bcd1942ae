"""Opening (a-nouveau) lines across several fiscal-year files."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from sageconnect.errors import SourceUnavailable
from sageconnect.mapping.documents import LedgerSettings
from sageconnect.mapping.ledger import LedgerMapper
from sageconnect.mapping.registry import load_file
from sageconnect.model.records import Invoice, Payment, Record
from support import ROOT, fec_lines

SPEC = load_file(ROOT / "mappings" / "fec.toml")
SETTINGS = LedgerSettings(currency="EUR", default_terms="30d", terms_by_customer={})


def sale(year: int, letter: str = "") -> list[str]:
    return [
        f"VE|Ventes|1|{year}0510|41100000|Clients|C1|Café|F1|{year}0510|F1|100,00|0,00|{letter}|||{year}0510||",
        f"VE|Ventes|1|{year}0510|70600000|Ventes|||F1|{year}0510|F1|0,00|100,00|||{year}0510||",
    ]


def opening(year: int, letter: str = "", *, journal: str = "AN") -> list[str]:
    return [
        f"{journal}|A nouveaux|1|{year}0101|41100000|Clients|C1|Café|F1|{year - 1}0510|F1|100,00|0,00|{letter}|||{year}0101||",
        f"{journal}|A nouveaux|1|{year}0101|89000000|Bilan|||AN|{year}0101|AN|0,00|100,00|||{year}0101||",
    ]


def payment(year: int, letter: str) -> list[str]:
    return [
        f"BQ|Banque|2|{year}0301|51200000|Banque|||R1|{year}0301|Virement|100,00|0,00|||{year}0301||",
        f"BQ|Banque|2|{year}0301|41100000|Clients|C1|Café|R1|{year}0301|Virement F1|0,00|100,00|{letter}|{year}0301|{year}0301||",
    ]


def read(tmp_path: Path, files: dict[str, list[str]]) -> list[Record]:
    paths = []
    for name, lines in files.items():
        path = tmp_path / name
        path.write_text(fec_lines(*lines), encoding="utf-8")
        paths.append(path)
    return list(LedgerMapper(SPEC, paths, SETTINGS).records())


def test_an_item_open_over_three_years_takes_its_state_from_the_newest(
    tmp_path: Path,
) -> None:
    """An invoice of 2024, carried into 2025 and 2026 and paid in 2026, is lettered with its payment."""
    records = read(
        tmp_path,
        {
            "1FEC20241231.txt": sale(2024),
            "1FEC20251231.txt": opening(2025),
            "1FEC20261231.txt": [*opening(2026, "B"), *payment(2026, "B")],
        },
    )
    (invoice,) = [r for r in records if isinstance(r, Invoice)]
    (pay,) = [r for r in records if isinstance(r, Payment)]
    assert invoice.lettering == pay.lettering == "20261231:B"


def test_opening_lines_need_not_come_first(tmp_path: Path) -> None:
    """Another journal's entry on 1 January before the a-nouveaux does not hide them."""
    purchase = [
        "ACH|Achats|1|20260101|60100000|Achats|||A1|20260101|Achat|10,00|0,00|||20260101||",
        "ACH|Achats|1|20260101|40100000|Fournisseurs|||A1|20260101|Achat|0,00|10,00|||20260101||",
    ]
    records = read(
        tmp_path,
        {
            "1FEC20251231.txt": sale(2025),
            "1FEC20261231.txt": [*purchase, *opening(2026, "C"), *payment(2026, "C")],
        },
    )
    amounts = [r.amount for r in records if isinstance(r, Invoice)]
    assert amounts == [Decimal("100.00")]
    assert {r.lettering for r in records if isinstance(r, Invoice | Payment)} == {
        "20261231:C"
    }


def test_a_missing_year_between_two_files_is_refused(tmp_path: Path) -> None:
    """With 2024 and 2026 but not 2025, the opening lines cannot be trusted: the read stops."""
    with pytest.raises(SourceUnavailable, match="a fiscal year is missing"):
        read(
            tmp_path,
            {"1FEC20241231.txt": sale(2024), "1FEC20261231.txt": opening(2026)},
        )


def test_two_files_for_one_year_are_refused(tmp_path: Path) -> None:
    """A re-export beside the original would count every line twice: the read stops."""
    with pytest.raises(SourceUnavailable, match="one file per year"):
        read(
            tmp_path,
            {"1FEC20251231.txt": sale(2025), "1FEC20251231 (1).txt": sale(2025)},
        )
