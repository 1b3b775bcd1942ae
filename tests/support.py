"""Helpers the tests import: small FEC texts and configs."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEADER = (
    "JournalCode|JournalLib|EcritureNum|EcritureDate|CompteNum|CompteLib|CompAuxNum|"
    "CompAuxLib|PieceRef|PieceDate|EcritureLib|Debit|Credit|EcritureLet|DateLet|"
    "ValidDate|Montantdevise|Idevise"
)


def fec_lines(*rows: str, header: str = HEADER) -> str:
    """A small FEC text: the header, then rows written with | as in the FEC."""
    return "\n".join([header, *rows]) + "\n"


def write_config(folder: Path, store_url: str, source: str, extra: str = "") -> Path:
    """A config with one company 'acme' reading ``source`` into ``store_url``."""
    path = folder / "config.toml"
    path.write_text(
        f"""
[store]
url = "{store_url}"

[companies.acme]
name = "ACME SAS"

[companies.acme.source]
mapping = "fec"
path = "{source}"
{extra}
""",
        encoding="utf-8",
    )
    return path
