"""The configuration file, parsed once at start-up into frozen pydantic models.

``load(path)`` returns a :class:`Config` or raises one :class:`ConfigError`
listing every problem found, each as key · value · expected.
"""

from __future__ import annotations

import re
import stat
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError

from sageconnect.credentials import SECRET_KEYS, Secret, has_inline_secret
from sageconnect.credit.settings import CreditConfig
from sageconnect.daemon.settings import DaemonConfig
from sageconnect.dunning.settings import DunningConfig, SenderConfig
from sageconnect.errors import ConfigError, Problem
from sageconnect.fields import Codec, OdbcString, TimeZone
from sageconnect.kpi.settings import ReportsConfig
from sageconnect.logs import scrub
from sageconnect.terms import parse_terms
from sageconnect.writeback.settings import WritebackConfig

CODE = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$"


def _terms(value: str) -> str:
    parse_terms(value)
    return value


Terms = Annotated[str, AfterValidator(_terms)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StoreConfig(_Model):
    """Where the canonical store lives."""

    url: str = "sqlite:///sageconnect.db"
    password: Secret | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not re.match(r"^(sqlite|postgresql)(\+\w+)?://", value):
            raise ValueError("a sqlite:/// path or a postgresql:// URL")
        try:
            url = make_url(value)
        except ArgumentError as exc:
            raise ValueError("a sqlite:/// path or a postgresql:// URL") from exc
        if url.password is not None or "password" in {k.lower() for k in url.query}:
            raise ValueError("a URL without password: put it in store.password")
        return value


class LoggingConfig(_Model):
    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["auto", "json", "console"] = "auto"


class FileSource(_Model):
    """A company whose ledger comes as export files (FEC, CSV...)."""

    mapping: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    path: str = Field(min_length=1)
    encoding: Literal["auto", "utf-8", "iso-8859-15", "cp1252"] = "auto"
    receivable_accounts: tuple[str, ...] | None = None

    @field_validator("receivable_accounts")
    @classmethod
    def _prefixes(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is not None:
            if not value:
                raise ValueError("at least one account prefix")
            for prefix in value:
                if not re.fullmatch(r"[0-9A-Za-z]+", prefix):
                    raise ValueError("account prefixes made of digits or letters")
        return value


class OdbcSource(_Model):
    """A company read live through ODBC (Sage 100 and alike)."""

    mapping: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    dsn: str | None = None
    connection_string: OdbcString | None = None
    user: str | None = None
    password: Secret | None = None
    encoding: Codec | None = None
    login_timeout: int = Field(default=15, ge=1, le=600)
    query_timeout: int = Field(default=600, ge=1)
    fetch_size: int = Field(default=5000, ge=100, le=100_000)
    lookback_minutes: int | None = Field(default=None, ge=1)
    full_every_hours: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _one_target(self) -> OdbcSource:
        if bool(self.dsn) == bool(self.connection_string):
            raise ValueError("exactly one of dsn or connection_string")
        return self

    def odbc_string(self) -> str:
        """The connection string, without the password (added at connect)."""
        base = f"DSN={self.dsn}" if self.dsn else str(self.connection_string)
        return f"{base.rstrip(';')};UID={self.user}" if self.user else base


def _source_kind(value: Any) -> str:
    if isinstance(value, dict) and ("dsn" in value or "connection_string" in value):
        return "odbc"
    return "file"


Source = Annotated[
    Annotated[FileSource, Tag("file")] | Annotated[OdbcSource, Tag("odbc")],
    Discriminator(_source_kind),
]


class PaymentTerms(_Model):
    """Due dates for sources that carry none (FEC): a default and exceptions."""

    default: Terms = "30d"
    by_customer: dict[str, Terms] = {}


class MatchingConfig(_Model):
    """How credits the accountant has not lettered yet are matched to invoices."""

    methods: tuple[Literal["reference", "amount", "oldest"], ...] = (
        "reference",
        "amount",
        "oldest",
    )

    @field_validator("methods")
    @classmethod
    def _unique(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(value)) != len(value):
            raise ValueError("each method at most once")
        return value


class BankConfig(_Model):
    """A folder where bank statements (camt.053, CFONB 120) are dropped."""

    path: str = Field(min_length=1)
    pattern: str = "*"
    pending_days: int = Field(default=10, ge=1, le=90)


class CompanyConfig(_Model):
    """One dossier: its source, its mapping, its terms."""

    name: str = Field(min_length=1)
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")
    timezone: TimeZone = "Europe/Paris"
    source: Source
    payment_terms: PaymentTerms = PaymentTerms()
    matching: MatchingConfig = MatchingConfig()
    bank: BankConfig | None = None
    dunning: bool = True  # false: this company is never reminded by sageconnect
    contacts: str | None = None  # a CSV of e-mails and phones (a FEC has none)
    policy: str | None = None  # the [credit.policies.<name>] covering its customers
    sender: SenderConfig | None = None  # default: [dunning.sender], the company's name
    writeback: WritebackConfig | None = None  # reminders written back as notes


class Config(_Model):
    """The whole file."""

    # Set by load(): the folder relative paths are resolved against.
    base_dir: Path = Path()
    store: StoreConfig = StoreConfig()
    logging: LoggingConfig = LoggingConfig()
    mappings_dir: str | None = None
    credit: CreditConfig | None = None
    dunning: DunningConfig | None = None
    reports: ReportsConfig = ReportsConfig()
    daemon: DaemonConfig = DaemonConfig()
    companies: dict[Annotated[str, Field(pattern=CODE)], CompanyConfig] = Field(
        min_length=1
    )

    @field_validator("mappings_dir")
    @classmethod
    def _folder(cls, value: str | None, info: ValidationInfo) -> str | None:
        base = info.data.get("base_dir", Path())
        if value is not None and not (base / Path(value).expanduser()).is_dir():
            raise ValueError("an existing folder of mapping files")
        return value

    @model_validator(mode="after")
    def _policies(self) -> Config:
        known = set(self.credit.policies) if self.credit else set()
        for code, company in self.companies.items():
            if company.policy is not None and company.policy not in known:
                have = ", ".join(sorted(known)) or "none defined"
                raise ValueError(
                    f"companies.{code}.policy = {company.policy!r}: a"
                    f" [credit.policies.<name>] ({have})"
                )
        return self

    def resolve_path(self, value: str) -> Path:
        path = Path(value).expanduser()
        return path if path.is_absolute() else self.base_dir / path

    def store_url(self) -> str:
        """The SQLAlchemy URL, with a relative SQLite path made absolute."""
        url = self.store.url
        if url.startswith("sqlite") and ":///" in url:
            head, _, tail = url.partition(":///")
            if tail and tail != ":memory:" and not Path(tail).is_absolute():
                url = f"{head}:///{self.resolve_path(tail)}"
        return url


def load(path: Path) -> Config:
    """Read, validate and resolve a config file; raise ConfigError on any problem."""
    name = str(path)
    try:
        raw_bytes = path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            [Problem("(file)", name, f"a readable file ({exc.strerror})", name)]
        ) from exc
    try:
        raw = tomllib.loads(raw_bytes.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(
            [Problem("(file)", name, f"valid UTF-8 TOML: {exc}", name)]
        ) from exc
    problems = _inline_secret_problems(path, raw)
    raw["base_dir"] = str(path.resolve().parent)
    try:
        config = Config.model_validate(raw, context={"base_dir": path.resolve().parent})
    except ValidationError as exc:
        problems += [_problem(err, name) for err in exc.errors()]
        raise ConfigError(problems) from None
    problems += _report_path_problems(config, name)
    problems += _daemon_problems(config, name)
    if problems:
        raise ConfigError(problems)
    return config


def _report_path_problems(config: Config, file: str) -> list[Problem]:
    # Each company's refresh rewrites the file: one path for all of them would
    # keep only the report of the last company refreshed.
    html = config.reports.html
    if html is None or len(config.companies) < 2 or "{company}" in html:  # noqa: PLR2004
        return []
    return [
        Problem(
            "reports.html",
            repr(html),
            "a path with {company} when there are several companies, e.g."
            " 'var/report-{company}.html'",
            file,
        )
    ]


def _daemon_problems(config: Config, file: str) -> list[Problem]:
    """A [daemon.companies.<code>] for no company (a misspelt code): found by
    ``check``, not only when the daemon starts."""
    names = ", ".join(config.companies)
    return [
        Problem(
            f"daemon.companies.{code}",
            "(a table)",
            f"a company of [companies]: {names}",
            file,
        )
        for code in sorted(set(config.daemon.companies) - set(config.companies))
    ]


def _inline_secret_problems(path: Path, raw: dict[str, Any]) -> list[Problem]:
    keys = has_inline_secret(raw)
    try:
        mode = path.stat().st_mode
    except OSError:
        return []
    if not keys or not mode & (stat.S_IRWXG | stat.S_IRWXO):
        return []
    return [
        Problem(
            key,
            "(inline secret)",
            f'a reference such as {{ env = "NAME" }}, or a config file readable '
            f"by its owner only (mode is {stat.filemode(mode)}; chmod 600)",
            str(path),
        )
        for key in keys
    ]


def _problem(err: Any, file: str) -> Problem:
    loc: list[str] = []
    for part in map(str, err["loc"]):
        if part in _UNION_TAGS or (loc[-1:] == ["source"] and part in _SOURCE_TAGS):
            continue
        loc.append(part)
    key = ".".join(loc) or "(top)"
    value = err.get("input")
    secret = any(part.lower() in SECRET_KEYS for part in loc)
    if secret:
        shown = "(hidden)"
    elif err["type"] == "missing":
        shown = "(missing)"
    elif err["type"] == "extra_forbidden":
        # An unknown key may be a misspelt secret: its value is never shown.
        return Problem(
            key, "(not shown)", "no such key here (check the spelling)", file
        )
    else:
        shown = scrub(_short(_hide_secrets(value)))
    expected = err["msg"].removeprefix("Value error, ")
    return Problem(key, shown, expected, file)


_SHOWN = 80
_UNION_TAGS = {"function-before[_resolve(), str]", "function-after[_terms(), str]"}
_SOURCE_TAGS = {"file", "odbc"}


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."


def _hide_secrets(value: Any) -> Any:
    """A table shown in an error, with its secret-named values hidden."""
    if isinstance(value, dict):
        return {
            k: "(hidden)" if str(k).lower() in SECRET_KEYS else _hide_secrets(v)
            for k, v in value.items()
        }
    return value
