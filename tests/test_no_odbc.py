from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from support import ROOT


def test_the_fec_path_runs_without_pyodbc(tmp_path: Path) -> None:
    """Check, sync and report on a FEC work where pyodbc cannot even be imported."""
    config = tmp_path / "config.toml"
    config.write_text(
        f'[store]\nurl = "sqlite:///{tmp_path / "s.db"}"\n'
        f'[companies.demo]\nname = "Demo"\n[companies.demo.source]\n'
        f'mapping = "fec"\npath = "{ROOT / "fixtures" / "fec"}"\n',
        encoding="utf-8",
    )
    script = (
        "import sys; sys.modules['pyodbc'] = None\n"
        "from sageconnect.cli import main\n"
        f"for argv in (['check'], ['sync'], ['report', 'balances']):\n"
        f"    assert main([*argv, '-c', {str(config)!r}]) == 0, argv\n"
        "assert 'pyodbc' not in [m for m in sys.modules if sys.modules[m] is not None]\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "C0001" in result.stdout
