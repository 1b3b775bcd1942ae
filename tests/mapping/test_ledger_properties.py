from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from sageconnect.mapping.documents import LedgerSettings
from sageconnect.mapping.ledger import LedgerMapper
from sageconnect.mapping.registry import load_file
from sageconnect.model.records import Invoice, Reject
from support import HEADER, ROOT

SPEC = load_file(ROOT / "mappings" / "fec.toml")
SETTINGS = LedgerSettings(currency="EUR", default_terms="30d", terms_by_customer={})
CORRUPTIONS: dict[str, Callable[[list[str]], object]] = {
    "date": lambda f: f.__setitem__(3, "20261345"),
    "amount": lambda f: f.__setitem__(11, "12,3.4"),
    "missing": lambda f: f.pop(),
    "no_amount": lambda f: (f.__setitem__(11, ""), f.__setitem__(12, "")),
}
entry = st.tuples(
    st.integers(1, 99_999),  # amount in cents
    st.sampled_from(["C1", "C2", "C3"]),
    st.sampled_from([None, *CORRUPTIONS, "bytes"]),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(entry, min_size=1, max_size=40), st.sampled_from(["\n", "\r\n"]))
def test_every_line_is_imported_or_set_aside(
    entries: list[tuple[int, str, str | None]], newline: str
) -> None:
    """Imported invoices plus rejects equal the sale entries, each reject at its own line."""
    lines = [HEADER.encode()]
    bad_lines: list[int] = []
    for n, (cents, customer, corruption) in enumerate(entries, start=1):
        amount = f"{cents // 100},{cents % 100:02d}"
        fields = f"VE|Ventes|{n}|20260105|41100000|Clients|{customer}|Client é|FA{n}|20260105|F|{amount}|0,00|||20260105||".split(
            "|"
        )
        if corruption == "bytes":
            line = (
                "|".join(fields)
                .encode()
                .replace("Client é".encode(), b"Client \xe9\xff")
            )
        else:
            if corruption:
                CORRUPTIONS[corruption](fields)
            line = "|".join(fields).encode()
        lines.append(line)
        if corruption:
            bad_lines.append(len(lines))
        lines.append(
            f"VE|Ventes|{n}|20260105|70600000|Prestations réalisées|||FA{n}|20260105|F|0,00|{amount}|||20260105||".encode()
        )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "1FEC20261231.txt"
        path.write_bytes(newline.encode().join(lines) + newline.encode())
        records = list(LedgerMapper(SPEC, [path], SETTINGS).records())
    invoices = [r for r in records if isinstance(r, Invoice)]
    rejects = [r for r in records if isinstance(r, Reject)]
    assert len(invoices) + len(rejects) == len(entries)
    assert sorted(r.line for r in rejects if r.line is not None) == bad_lines
    assert all(r.where == str(path) and r.reason for r in rejects)
