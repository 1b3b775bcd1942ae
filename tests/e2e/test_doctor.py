"""sageconnect doctor: each source tried before a sync, problems named."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sageconnect.cli import main
from support import ROOT, SageDb, build_sage, drop_sage, write_config


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def sage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SageDb]:
    db = build_sage(request.param, tmp_path, customers=10, entries=60)
    yield db
    drop_sage(db)


def sage_config(tmp_path: Path, source: str, mappings: Path | None = None) -> Path:
    path = tmp_path / "config.toml"
    folder = f'mappings_dir = "{mappings}"\n' if mappings else ""
    path.write_text(
        f'{folder}[store]\nurl = "sqlite:///{tmp_path / "s.db"}"\n[companies.acme]\n'
        f'name = "ACME"\n[companies.acme.source]\nmapping = "sage100"\n{source}',
        encoding="utf-8",
    )
    return path


def test_doctor_passes_every_query_on_each_driver(
    sage: SageDb, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Connect and each of the mapping's queries are checked, each reported ok."""
    assert main(["doctor", "-c", str(sage_config(tmp_path, sage.source_settings))]) == 0
    out = capsys.readouterr().out
    for check in ("connect", "customers query", "contacts query", "entries query"):
        assert check in out
    assert "FAIL" not in out


def test_doctor_names_the_missing_column(
    sage: SageDb, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A mapping whose query lost a column fails that query, naming the column; exit 69."""
    folder = tmp_path / "mappings"
    folder.mkdir()
    text = (ROOT / "mappings" / "sage100.toml").read_text(encoding="utf-8")
    (folder / "sage100.toml").write_text(
        text.replace("CT_Telephone, CT_Siret", "CT_Siret"), encoding="utf-8"
    )
    assert (
        main(["doctor", "-c", str(sage_config(tmp_path, sage.source_settings, folder))])
        == 69
    )
    out = capsys.readouterr().out
    assert "customers query  FAIL" in out
    assert "CT_Telephone" in out


def test_doctor_reports_an_unreachable_server_without_its_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server that does not answer fails 'connect'; the password never shows."""
    pytest.importorskip("pyodbc", reason="pyodbc needs unixODBC (see .ci/run)")
    monkeypatch.setenv("SC_DOCTOR_PW", "canary-doctor")
    source = (
        'connection_string = "Driver={PostgreSQL Unicode};Servername=127.0.0.1;Port=5499;Database=x"\n'
        'password = { env = "SC_DOCTOR_PW" }\nlogin_timeout = 2\n'
    )
    assert main(["doctor", "-c", str(sage_config(tmp_path, source))]) == 69
    captured = capsys.readouterr()
    assert "connect  FAIL" in captured.out
    assert "canary" not in captured.out + captured.err


def test_doctor_reads_the_demo_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """For a FEC source, each file's charset, separator and width are shown."""
    config = write_config(tmp_path, "sqlite:///s.db", str(ROOT / "fixtures" / "fec"))
    assert main(["doctor", "-c", str(config)]) == 0
    out = capsys.readouterr().out
    assert "utf-8-sig, TAB, 18 columns" in out
    assert "iso-8859-15, |, 19 columns" in out
