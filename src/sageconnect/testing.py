"""The mapper contract suite, for sageconnect's own mappers and for plug-in authors.

    from sageconnect.testing import assert_mapper

    def test_my_mapper_meets_the_contract(update_golden):
        golden = Path("fixtures/acme/expected")
        assert_mapper(make_mapper(...), golden, update=update_golden)

A mapper passes when its first read matches the golden files (records.jsonl and
rejects.jsonl: one JSON object per line, keys sorted, amounts as strings), every
record carries its natural key, every reject says where and why, and a second
read from the saved checkpoint is not a full one, reads less than the first and
brings nothing new.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import enum
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from sageconnect.mapping.protocol import Mapper, NoteWriter
from sageconnect.model.notes import Note, NotedInvoice
from sageconnect.model.records import (
    Customer,
    Keyed,
    Record,
    Reject,
)


def as_json(record: Record) -> str:
    """One record as a line of golden file: its type, then its fields, keys sorted."""
    data = {"type": type(record).__name__, **dataclasses.asdict(record)}
    return json.dumps(data, sort_keys=True, ensure_ascii=False, default=_plain)


def assert_mapper(
    mapper: Mapper, golden: Path, *, update: bool = False, root: Path | None = None
) -> None:
    """Run the contract on ``mapper``; with ``update``, rewrite the golden files.

    ``root`` is cut from the start of file paths in rejects, so that golden files
    do not depend on where the project is checked out.
    """
    reading = mapper.read(None, full=True)
    assert reading is not None, "a first read (no checkpoint) must read"
    first = list(reading.records())
    checkpoint = reading.checkpoint()
    rejects = [r for r in first if isinstance(r, Reject)]
    records = [r for r in first if not isinstance(r, Reject)]
    for record in records:
        assert _key(record), f"a record without its natural key: {record}"
    for reject in rejects:
        assert reject.where, f"a reject that does not say where: {reject}"
        assert reject.reason, f"a reject that does not say why: {reject}"
    compare_golden(
        golden / "records.jsonl", sorted(map(as_json, records)), update=update
    )
    prefix = f"{root}/" if root else ""
    shown = [
        dataclasses.replace(r, where=r.where.removeprefix(prefix)) for r in rejects
    ]
    compare_golden(golden / "rejects.jsonl", [as_json(r) for r in shown], update=update)
    again = mapper.read(checkpoint, full=False)
    if again is not None:
        assert not again.complete, (
            "a read from a fresh checkpoint must not be a full one"
        )
        second = [r for r in again.records() if not isinstance(r, Reject)]
        seen = {as_json(r) for r in records}
        new = [r for r in second if as_json(r) not in seen]
        assert not new, f"a second read brought {len(new)} new record(s)"
        assert len(second) < len(records) or not records, (
            "a second read from the checkpoint read everything again"
        )


def compare_golden(path: Path, lines: list[str], *, update: bool = False) -> None:
    """Compare lines with a golden file, showing a unified diff; rewrite on update."""
    if update:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
        return
    expected = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    if lines != expected:
        diff = "\n".join(
            difflib.unified_diff(expected, lines, str(path), "found", lineterm="", n=1)
        )
        raise AssertionError(
            f"{path} differs (rerun with --update-golden):\n{diff[:6000]}"
        )


def _key(record: Keyed) -> str:
    return record.code if isinstance(record, Customer) else record.key


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    raise TypeError(type(value).__name__)


# --- the note-writer contract (write-back) -----------------------------------


def sample_notes(
    customer: str = "C1", *, length: int | None = None, encoding: str = "utf-8"
) -> list[Note]:
    """Two notes for one customer, with French text fitted to the target."""
    from sageconnect.writeback.text import fit, marker  # noqa: PLC0415 - tests only

    made = []
    for n, (key, word) in enumerate(
        (("0f1e2d3c4b5a69788796a5b4c3d2e1f0", "cœur"), ("a1b2c3d4e5f6", "d’été")),
        start=1,
    ):
        mark = marker(key)
        text = f"{mark} 24/11/2026 relance {n} e-mail envoyée ; fact. FA{n} ; {word} €"
        made.append(
            Note(
                key=key,
                marker=mark,
                kind="note",
                company="acme",
                customer=customer,
                on=dt.date(2026, 11, 24),
                text=fit(text, length, encoding),
                step=f"step_{n}",
                level=n,
                channel="email",
                outcome="sent",
                total=Decimal("1234.56") * n,
                interest=Decimal("0.00"),
                indemnity=Decimal("40.00"),
                invoices=(NotedInvoice(key=str(n), number=f"FA{n}"),),
            )
        )
    return made


def assert_note_writer(writer: NoteWriter, notes: list[Note] | None = None) -> None:
    """Run the contract on ``writer``: a note is absent until written, present
    after (also once the writer is closed and opened again), and writing one
    note does not make another appear present."""
    first, second = notes or sample_notes(
        length=writer.length, encoding=writer.encoding
    )
    assert writer.name, "a writer has a name"
    for note in (first, second):
        if writer.length is not None:
            assert len(note.text.encode(writer.encoding)) <= writer.length
    assert not writer.exists(first), "a note is absent before it is written"
    writer.write(first)
    assert writer.exists(first), "a written note is found by its marker"
    assert not writer.exists(second), "only the note written is found"
    writer.close()
    assert writer.exists(first), "a note stays found after close"
    writer.write(second)
    assert writer.exists(second)
    writer.close()
    writer.close()  # closing twice is harmless
