"""The commands load what they run, nothing more.

Start-up is most of an unchanged re-sync's time, and the daemon and integrators'
scripts re-sync often: building the parser imports no command's code (the
cli_* modules register with argparse only), and a sync imports neither the
dunning, KPI and credit code nor the channels' libraries. The configuration
is still validated whole: its models (the *settings* modules) do load.

Each check runs in a fresh interpreter (this one has imported everything).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from sageconnect import cli_dunning
from sageconnect.dunning import pauses
from support import ROOT

# What validating the configuration needs: the settings models (and the address
# checks the [reports] mail target uses).
CONFIG = {
    "sageconnect.credit.settings",
    "sageconnect.daemon.settings",
    "sageconnect.dunning.settings",
    "sageconnect.dunning.channels",  # the package of:
    "sageconnect.dunning.channels.checks",
    "sageconnect.kpi.settings",
    "sageconnect.writeback.settings",
    "sageconnect.writeback.report",  # the writeback package's own import
}
# Never needed to sync a FEC source (prefixes; CONFIG excepted).
NOT_FOR_SYNC = (
    "sageconnect.credit.",
    "sageconnect.daemon.",
    "sageconnect.dunning.",
    "sageconnect.kpi.",
    "sageconnect.service.",
    "sageconnect.writeback.",
    "sageconnect.verify",
    "sageconnect.plugin",
    "sageconnect.mapping.entries",
    "sageconnect.mapping.file_entries",
    "sageconnect.readers.odbc",
    "requests",
    "smtplib",
    "jinja2",
    "fpdf",
    "apscheduler",
)
# Nor to build the parser, nor to load the configuration.
NOT_FOR_PARSER = (
    *NOT_FOR_SYNC,
    "sageconnect.jobs",
    "sageconnect.bank.",
    "sageconnect.store.",
    "sageconnect.mapping.spec",
    "sageconnect.mapping.registry",
    "sageconnect.ledger.",
    "alembic",
)


def _loaded(script: str) -> list[str]:
    """The modules a fresh interpreter holds after ``script``."""
    code = (
        "import json, sys\n"
        f"{script}\n"
        "print(json.dumps(sorted(m for m, v in sys.modules.items() if v)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    loaded: list[str] = json.loads(result.stdout.splitlines()[-1])
    return loaded


def _unwanted(loaded: list[str], names: tuple[str, ...]) -> list[str]:
    """``names``: a module and its submodules, or (ending in a dot) the submodules
    of a package (its __init__ comes with the settings module beside them)."""
    return [
        m
        for m in loaded
        if m not in CONFIG
        and any(
            m.startswith(n if n.endswith(".") else f"{n}.") or m == n for n in names
        )
    ]


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """The shipped example: every feature configured (dunning, credit, reports,
    bank, write-back), one FEC company; the store in ``tmp_path``."""
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    text = text.replace('"fixtures/', f'"{ROOT}/fixtures/')
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_lists_name_real_modules() -> None:
    """A renamed module would make the checks below pass for nothing."""
    for name in {*NOT_FOR_PARSER, *CONFIG}:
        assert importlib.util.find_spec(name.rstrip(".")) is not None, name


def test_building_the_parser_and_loading_the_config_imports_no_command(
    config: Path,
) -> None:
    loaded = _loaded(
        "from pathlib import Path\n"
        "from sageconnect import cli\n"
        "cli._parser().parse_args(['sync', '-c', 'x'])\n"
        f"cli.load(Path({str(config)!r}))\n"
    )
    assert _unwanted(loaded, NOT_FOR_PARSER) == []
    assert set(loaded) >= CONFIG  # the config is validated whole, as before


def test_a_sync_and_a_re_sync_import_no_dunning_kpi_or_credit_code(
    config: Path,
) -> None:
    for run in ("sync", "re-sync"):
        loaded = _loaded(
            "from sageconnect.cli import main\n"
            f"assert main(['sync', '-c', {str(config)!r}]) == 0\n"
        )
        assert _unwanted(loaded, NOT_FOR_SYNC) == [], run
        assert "sageconnect.mapping.ledger" in loaded  # it did sync
        # the first run creates the store; the next finds it up to date
        assert ("alembic" in loaded) == (run == "sync"), run


def test_a_ledger_report_imports_no_kpi_dunning_or_mapping_code(config: Path) -> None:
    loaded = _loaded(
        "from sageconnect.cli import main\n"
        f"assert main(['report', 'balances', '-c', {str(config)!r}]) == 0\n"
    )
    unwanted = ("sageconnect.jobs", "sageconnect.mapping.spec", *NOT_FOR_SYNC)
    assert _unwanted(loaded, unwanted) == []


def test_each_kind_of_pause_has_its_command() -> None:
    """The parser names the pause commands without importing dunning.pauses."""
    assert tuple(cli_dunning.PAUSES) == pauses.KINDS
