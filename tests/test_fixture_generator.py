from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from support import ROOT

FILES = [
    "fec/123456789FEC20251231.txt",
    "fec/123456789FEC20261231.txt",
    "fec-malformed/900000001FEC20261231.txt",
]


def test_the_committed_fixtures_are_what_the_seeded_generator_writes(
    tmp_path: Path,
) -> None:
    """Running the generator anew gives the committed files byte for byte."""
    script = tmp_path / "fixtures" / "fec" / "generate.py"
    script.parent.mkdir(parents=True)
    (tmp_path / "fixtures" / "fec-malformed").mkdir()
    shutil.copy(ROOT / "fixtures" / "fec" / "generate.py", script)
    for flags in ([], ["--malformed"]):
        subprocess.run(
            [sys.executable, str(script), *flags], check=True, capture_output=True
        )
    for name in FILES:
        assert (tmp_path / "fixtures" / name).read_bytes() == (
            ROOT / "fixtures" / name
        ).read_bytes(), name
