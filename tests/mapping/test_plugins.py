"""Code mappers found through the sageconnect.mappers entry-point group."""

from __future__ import annotations

import importlib
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from sageconnect.cli import main
from sageconnect.clock import FixedClock
from sageconnect.config import load
from sageconnect.jobs import build_mapper, sync_company
from sageconnect.store.engine import open_store
from sageconnect.store.queries import balances, company_ids
from sageconnect.testing import assert_mapper
from support import ROOT

PLUGIN = """
import datetime as dt
from decimal import Decimal
from sageconnect.plugin import Customer, DocKind, DueSource, Invoice, PluginContext


class Reading:
    complete = True

    def __init__(self, context):
        self.context = context

    def records(self):
        yield Customer(code="K1", name="Kiosque Émile")
        yield Invoice(
            key="inv-1", customer="K1", number="A-1", kind=DocKind.INVOICE,
            issued=dt.date(2026, 10, 1), due=dt.date(2026, 10, 31),
            due_source=DueSource.SOURCE, amount=Decimal("42.50"),
            currency=self.context.settings.currency,
        )

    def checkpoint(self):
        return "v1"


class AcmeMapper:
    name = "acme-erp"

    def __init__(self, context: PluginContext):
        self.context = context

    def read(self, checkpoint, *, full):
        return None if checkpoint == "v1" and not full else Reading(self.context)


def make(context):
    return AcmeMapper(context)
"""


@pytest.fixture
def installed_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A package declaring an acme-erp mapper, installed on sys.path as pip would."""
    site = tmp_path / "site"
    dist = site / "acme_plugin-0.1.dist-info"
    dist.mkdir(parents=True)
    (site / "acme_plugin.py").write_text(PLUGIN, encoding="utf-8")
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: acme-plugin\nVersion: 0.1\n", encoding="utf-8"
    )
    (dist / "entry_points.txt").write_text(
        "[sageconnect.mappers]\nacme-erp = acme_plugin:make\n", encoding="utf-8"
    )
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delitem(sys.modules, "acme_plugin", raising=False)
    importlib.invalidate_caches()
    return site


def config_file(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'{extra}[store]\nurl = "sqlite:///{tmp_path / "s.db"}"\n'
        '[companies.acme]\nname = "ACME"\n[companies.acme.source]\n'
        'mapping = "acme-erp"\npath = "unused"\n',
        encoding="utf-8",
    )
    return path


def test_a_plugin_mapper_syncs_like_any_other(
    installed_plugin: Path, tmp_path: Path, clock: FixedClock
) -> None:
    """An installed entry point named in the config is found, built and synced."""
    config = load(config_file(tmp_path))
    engine = open_store(config.store_url())
    report = sync_company(config, "acme", engine, clock)
    assert report.inserted == 2
    with engine.connect() as conn:
        (b,) = balances(conn, company_ids(conn)["acme"], clock.now().date())
    assert (b.code, b.name, b.overdue) == ("K1", "Kiosque Émile", Decimal("42.50"))
    engine.dispose()


def test_a_plugin_passes_the_contract_suite(
    installed_plugin: Path, tmp_path: Path, clock: FixedClock
) -> None:
    """sageconnect.testing.assert_mapper works on a plug-in as it does on ours."""
    mapper = build_mapper(load(config_file(tmp_path)), "acme", clock)
    golden = tmp_path / "expected"
    assert_mapper(mapper, golden, update=True)
    assert_mapper(mapper, golden)
    assert '"number": "A-1"' in (golden / "records.jsonl").read_text(encoding="utf-8")


def test_a_broken_plugin_stops_sync_with_exit_78(
    installed_plugin: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A plug-in that fails to load is a configuration problem, not a crash."""
    (installed_plugin / "acme_plugin.py").write_text(
        "raise RuntimeError('broken')\n", encoding="utf-8"
    )
    assert main(["sync", "-c", str(config_file(tmp_path))]) == 78
    err = capsys.readouterr().err
    assert "a plug-in that loads" in err
    assert "Traceback" not in err


def test_a_name_defined_twice_is_a_config_error(
    installed_plugin: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A mapping file and a plug-in with one name: check names both and exits 78."""
    folder = tmp_path / "mappings"
    folder.mkdir()
    text = (ROOT / "mappings" / "fec.toml").read_text(encoding="utf-8")
    (folder / "acme-erp.toml").write_text(
        text.replace('name = "fec"', 'name = "acme-erp"'), encoding="utf-8"
    )
    assert main(["check", "-c", str(config_file(tmp_path))]) == 78
    err = capsys.readouterr().err
    assert str(folder / "acme-erp.toml") in err
    assert "acme_plugin:make" in err


def test_an_unknown_name_lists_files_and_plugins(
    installed_plugin: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unknown mapping names every mapping file and plug-in that exists."""
    path = config_file(tmp_path)
    path.write_text(
        path.read_text(encoding="utf-8").replace('"acme-erp"', '"acme"'),
        encoding="utf-8",
    )
    assert main(["check", "-c", str(path)]) == 78
    err = capsys.readouterr().err
    listed = err.split("one of: ", 1)[1].split(" (looked in", 1)[0].split(", ")
    assert set(listed) >= {"acme-erp", "csv", "ebp", "fec", "sage100"}
