"""What the benchmark scripts share: a measured child process and the results table."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WRAPPER = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
out = subprocess.run(sys.argv[1:], check=True, capture_output=True, text=True).stdout
wall = time.perf_counter() - start
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps([wall, rss, out.strip()]))
"""
Result = tuple[str, int, float, int]  # measure, rows, wall seconds, peak RSS MiB


def child(cmd: list[str]) -> tuple[float, int, str]:
    """Wall seconds, peak RSS (MiB) and standard output of cmd, in its own process."""
    out = subprocess.run(
        [sys.executable, "-c", WRAPPER, *cmd],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    wall, rss, text = json.loads(out)
    return float(wall), int(rss) // 1024, str(text)


def write_results(name: str, rows: Sequence[Result], unit: str = "rows") -> str:
    """Write bench/results/<name>.md (command, machine, table) and return the table."""
    table = [
        f"| measure | {unit} | wall s | {unit}/s | peak RSS MiB |",
        "|---|---:|---:|---:|---:|",
        *(f"| {m} | {n} | {w:.2f} | {n / w:,.0f} | {r} |" for m, n, w, r in rows),
    ]
    text = "\n".join(table) + "\n"
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / f"{name}.md").write_text(
        f"Command: {' '.join(sys.argv)}\nMachine: {os.cpu_count()} cores\n\n{text}",
        encoding="utf-8",
    )
    return text


def fec_file(lines: int, data: Path) -> Path:
    """The seeded FEC of ``lines`` lines (fixtures/fec/generate.py), generated
    once into ``data``."""
    path = data / f"fec{lines}" / f"900000000FEC{lines}.txt"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "fixtures/fec/generate.py"),
                "--lines",
                str(lines),
                "--customers",
                str(max(50, lines // 50)),
                "--seed",
                "7",
                "--out",
                str(path),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return path
