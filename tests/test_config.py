from __future__ import annotations

import os
from pathlib import Path

import pytest

from sageconnect.cli import main
from sageconnect.config import load
from sageconnect.errors import ConfigError
from support import ROOT

GOOD = """
[store]
url = "sqlite:///store.db"

[companies.acme]
name = "ACME"

[companies.acme.source]
mapping = "fec"
path = "{fixtures}"
"""


def write(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        text.replace("{fixtures}", str(ROOT / "fixtures" / "fec")), encoding="utf-8"
    )
    path.chmod(mode)
    return path


def problems(
    tmp_path: Path, text: str, mode: int = 0o600
) -> dict[str, tuple[str, str]]:
    with pytest.raises(ConfigError) as caught:
        load(write(tmp_path, text, mode))
    return {p.key: (p.value, p.expected) for p in caught.value.problems}


def test_the_example_config_is_valid() -> None:
    """config.example.toml loads as shipped, with relative paths resolved beside it."""
    config = load(ROOT / "config.example.toml")
    assert config.store_url() == f"sqlite:///{ROOT / 'var' / 'sageconnect.db'}"
    assert config.companies["demo"].payment_terms.by_customer["C0003"] == "45d-eom"


def test_every_wrong_key_is_reported_at_once(tmp_path: Path) -> None:
    """Several mistakes in one file come back together, each with key, value, expected."""
    found = problems(
        tmp_path,
        """
[store]
url = "mysql://x"
[logging]
level = "loud"
[companies.acme]
name = "ACME"
curency = "EUR"
timezone = "Paris"
[companies.acme.source]
mapping = "fec"
[companies.acme.payment_terms]
default = "30 days"
by_customer = { C1 = "net60" }
""",
    )
    assert set(found) == {
        "store.url",
        "logging.level",
        "companies.acme.curency",
        "companies.acme.timezone",
        "companies.acme.source.path",
        "companies.acme.payment_terms.default",
        "companies.acme.payment_terms.by_customer.C1",
    }
    assert found["logging.level"][0] == "'loud'"
    assert "debug" in found["logging.level"][1]
    assert found["companies.acme.curency"][1].startswith("no such key")
    assert found["companies.acme.source.path"][0] == "(missing)"
    assert "30d, 45d-eom or eom+45d" in found["companies.acme.payment_terms.default"][1]


def test_a_config_without_companies_is_refused(tmp_path: Path) -> None:
    """At least one company is needed to do anything."""
    assert "companies" in problems(tmp_path, "[store]\n")


def test_broken_toml_names_the_line(tmp_path: Path) -> None:
    """A TOML syntax error says where it is."""
    found = problems(tmp_path, "[store\nurl = 1\n")
    assert "line 1" in found["(file)"][1]


def test_secrets_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A password given as { env = ... } is read from the environment and never printed."""
    monkeypatch.setenv("SC_TEST_PW", "canary-7f3a")
    text = GOOD.replace(
        'url = "sqlite:///store.db"',
        'url = "postgresql://u@h/db"\npassword = { env = "SC_TEST_PW" }',
    )
    config = load(write(tmp_path, text))
    assert config.store.password is not None
    assert config.store.password.get_secret_value() == "canary-7f3a"
    assert "canary" not in repr(config)
    assert "canary" not in config.model_dump_json()


def test_secrets_come_from_files_and_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """{ file = ... } and systemd { credential = ... } are read, trailing newline dropped."""
    (tmp_path / "pw").write_text("from-file\n", encoding="utf-8")
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "store").write_text("from-credential", encoding="utf-8")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    for ref, expected in [
        (f'{{ file = "{tmp_path / "pw"}" }}', "from-file"),
        ('{ credential = "store" }', "from-credential"),
    ]:
        text = GOOD.replace(
            'url = "sqlite:///store.db"',
            f'url = "postgresql://u@h/db"\npassword = {ref}',
        )
        secret = load(write(tmp_path, text)).store.password
        assert secret is not None
        assert secret.get_secret_value() == expected


def test_a_missing_secret_names_its_key_not_its_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unset environment variable is a problem at the password key."""
    monkeypatch.delenv("SC_ABSENT", raising=False)
    text = GOOD.replace(
        'url = "sqlite:///store.db"',
        'url = "postgresql://u@h/db"\npassword = { env = "SC_ABSENT" }',
    )
    found = problems(tmp_path, text)
    assert found["store.password"] == (
        "(hidden)",
        "environment variable SC_ABSENT to be set",
    )


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_an_inline_secret_needs_a_private_file(tmp_path: Path) -> None:
    """An inline password in a file others can read is refused, without showing it."""
    text = GOOD.replace(
        'url = "sqlite:///store.db"',
        'url = "postgresql://u@h/db"\npassword = "canary-inline"',
    )
    found = problems(tmp_path, text, mode=0o644)
    assert found["store.password"][0] == "(inline secret)"
    assert "chmod 600" in found["store.password"][1]
    assert load(write(tmp_path, text, mode=0o600)).store.password is not None


def test_a_password_in_the_store_url_is_refused(tmp_path: Path) -> None:
    """The URL must not carry the password: it would end up in logs and backups."""
    text = GOOD.replace("sqlite:///store.db", "postgresql://u:canary@h/db")
    found = problems(tmp_path, text)
    assert "store.password" in found["store.url"][1]


def test_check_reports_an_unknown_mapping_and_exits_78(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`sageconnect check` names the company key and lists the mappings that exist."""
    path = write(tmp_path, GOOD.replace('mapping = "fec"', 'mapping = "sage1000"'))
    assert main(["check", "-c", str(path)]) == 78
    err = capsys.readouterr().err
    assert "companies.acme.source.mapping = 'sage1000'" in err
    listed = err.split("one of: ", 1)[1].split(" (looked in", 1)[0].split(", ")
    assert set(listed) >= {"csv", "ebp", "fec", "sage100"}


def test_check_reports_every_problem_of_a_broken_mapping(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A mapping file with several mistakes has each reported with its file and key."""
    folder = tmp_path / "mappings"
    folder.mkdir()
    broken = (ROOT / "mappings" / "fec.toml").read_text(encoding="utf-8")
    broken = broken.replace('reader = "file"', 'reader = "ftp"').replace(
        'journal = "JournalCode"', 'jornal = "JournalCode"'
    )
    (folder / "fec.toml").write_text(broken, encoding="utf-8")
    assert main(["check", "-c", str(write(tmp_path, GOOD))]) == 78
    err = capsys.readouterr().err
    assert "mapping.reader = 'ftp'" in err
    assert "ledger.columns.jornal" in err
    assert "ledger.columns.journal = (missing)" in err
    assert str(folder / "fec.toml") in err


def test_check_passes_on_the_example(capsys: pytest.CaptureFixture[str]) -> None:
    """The shipped example passes `sageconnect check`."""
    assert main(["check", "-c", str(ROOT / "config.example.toml")]) == 0
    assert "OK" in capsys.readouterr().out


@pytest.mark.parametrize(
    "url",
    [
        "postgres://sage:canary-9@db.lan:5432/recv",
        "postgresql://sage:ca/nary-9@db.lan/recv",
        "postgresql://sage@db.lan/recv?password=canary-9",
    ],
)
def test_a_password_in_any_url_form_is_refused_and_not_shown(
    tmp_path: Path, url: str
) -> None:
    """Whatever the URL's form, a password in it is refused and never printed back."""
    with pytest.raises(ConfigError) as caught:
        load(write(tmp_path, GOOD.replace("sqlite:///store.db", url)))
    assert "canary" not in str(caught.value)
    assert "ca/nary" not in str(caught.value)
    assert "store.url" in str(caught.value)


def test_a_misspelt_secret_key_is_reported_without_its_value(tmp_path: Path) -> None:
    """An unknown key is named, but its value, maybe a password, is not printed."""
    text = GOOD.replace(
        'url = "sqlite:///store.db"',
        'url = "sqlite:///store.db"\npasword = "canary-typo"',
    )
    with pytest.raises(ConfigError) as caught:
        load(write(tmp_path, text))
    assert "store.pasword = (not shown)" in str(caught.value)
    assert "canary" not in str(caught.value)


def test_a_missing_mappings_folder_is_reported(tmp_path: Path) -> None:
    """A mappings_dir that does not exist is an error, not a silent fallback."""
    found = problems(tmp_path, 'mappings_dir = "no_such_dir"\n' + GOOD)
    assert found["mappings_dir"] == (
        "'no_such_dir'",
        "an existing folder of mapping files",
    )


def test_a_relative_secret_file_is_found_beside_the_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """{ file = "pw.txt" } is read beside the config, whatever the working directory."""
    (tmp_path / "pw.txt").write_text("beside", encoding="utf-8")
    monkeypatch.chdir("/")
    text = GOOD.replace(
        'url = "sqlite:///store.db"',
        'url = "postgresql://u@h/db"\npassword = { file = "pw.txt" }',
    )
    secret = load(write(tmp_path, text)).store.password
    assert secret is not None
    assert secret.get_secret_value() == "beside"


def test_a_table_shown_in_an_error_hides_its_secrets(tmp_path: Path) -> None:
    """An error about a whole source table never prints its password."""
    text = GOOD.replace(
        'mapping = "fec"\npath = "{fixtures}"',
        'password = "canary-table"\nmapping = "sage100"\ndsn = "A"\nconnection_string = "Driver=x"',
    )
    with pytest.raises(ConfigError) as caught:
        load(write(tmp_path, text))
    assert "exactly one of dsn or connection_string" in str(caught.value)
    assert "canary" not in str(caught.value)
