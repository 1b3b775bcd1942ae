"""A Notice rendered for its channel, from Jinja templates in a sandbox.

Templates are named ``<language>/<template>.<part>``, the parts being:

=================  =========================================================
``subject.txt``    the e-mail subject, the letter's subject line
``txt``            the e-mail plain-text body
``html``           the e-mail HTML body (autoescaped)
``sms.txt``        the SMS
``letter.txt``     the letter body, laid out as a PDF by :mod:`.letter`
``call.txt``       the call task
=================  =========================================================

A channel takes: email → subject, txt, html, and the letter as a PDF when the
notice's tone is ``formal``; sms → sms.txt; letter → subject and the PDF; call →
call.txt. Files whose name starts with ``_`` are partials (layouts, includes).

The folders given to :class:`Renderer` come first, so integrators override one
file of the shipped set (``sageconnect/templates``) by writing a file of the same
name. The customer's language is used when its folder has every part the channel
needs, French otherwise.

Templates are semi-trusted (integrators write them), the data is not (customer
names come from the ledger): templates run in Jinja's immutable sandbox, HTML is
autoescaped and text is not, a missing variable or a ``None`` fails the render
(never "Montant dû :  EUR"), subjects lose every line break and control
character. A template fails as a :class:`TemplateError` naming the file; call
:func:`check_templates` at start-up so it fails there, not at sending time.

Variables: every field of the Notice at top level (``lines``, ``total_open``,
``sender``, ``pay_by``...), ``notice`` itself, ``language``: the language the
template is written in (the customer's, or the fallback), and
``customer_language``: the notice's own. ``letter.txt`` also has
``invoice_table``: write it on a line of its own where the table goes.
Template names are lower-case words (``[a-z][a-z0-9_]*``): no path from the
configuration reaches the loader.
Filters: ``money`` (the notice's currency), ``day``, ``long_day``, ``percent``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import unicodedata
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from types import TracebackType

import jinja2
from jinja2 import FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from sageconnect.dunning import formatting
from sageconnect.dunning.message import ChannelKind, Line, Notice, Rendered, Sender
from sageconnect.errors import ConfigError, Problem

PARTS = ("subject.txt", "txt", "html", "sms.txt", "letter.txt", "call.txt")
CHANNEL_PARTS: Mapping[ChannelKind, tuple[str, ...]] = {
    "email": ("subject.txt", "txt", "html"),
    "sms": ("sms.txt",),
    "letter": ("subject.txt", "letter.txt"),
    "call": ("call.txt",),
}
SHIPPED = Path(__file__).resolve().parent.parent / "templates"
DEFAULT_LANGUAGE = "fr"

_TEMPLATE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_LANGUAGE = re.compile(r"^[a-z]{2}$")
_EXPECTED = "a template that renders a notice (its fields, money/day/long_day/percent)"
_RENDER_ERRORS = (
    jinja2.TemplateError,
    TypeError,
    ValueError,
    ArithmeticError,
    LookupError,
    AttributeError,
)


class TemplateError(ConfigError):
    """A template is missing or does not render; ``templates`` names each one."""

    @property
    def templates(self) -> list[str]:
        return [problem.key for problem in self.problems]


def _problem(name: str, exc: BaseException, filename: str | None = None) -> Problem:
    line = _template_line(exc, filename)
    reason = str(exc) if isinstance(exc, jinja2.TemplateError) else repr(exc)
    if isinstance(exc, jinja2.TemplateNotFound):
        reason = f"not found (looked for {exc.name})"
    where = f"line {line}: " if line else ""
    return Problem(key=name, value=f"{where}{reason}", expected=_EXPECTED)


def _template_line(exc: BaseException, filename: str | None) -> int | None:
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return exc.lineno
    found = None
    tb: TracebackType | None = exc.__traceback__
    while tb is not None:  # Jinja rewrites frames to the template's lines
        code_file = tb.tb_frame.f_code.co_filename
        if filename is not None and code_file == filename:
            found = tb.tb_lineno
        tb = tb.tb_next
    return found


def _defined(value: object) -> None:
    """Fail on an undefined filter argument the way ``{{ x }}`` would."""
    if isinstance(value, Undefined):
        str(value)  # StrictUndefined raises UndefinedError naming the variable


@pass_context
def _money(context: Context, amount: Decimal, currency: str | None = None) -> str:
    _defined(amount)
    return formatting.money(
        amount, currency or str(context["currency"]), str(context["language"])
    )


@pass_context
def _day(context: Context, date: dt.date) -> str:
    _defined(date)
    return formatting.day(date, str(context["language"]))


@pass_context
def _long_day(context: Context, date: dt.date) -> str:
    _defined(date)
    return formatting.long_day(date, str(context["language"]))


@pass_context
def _percent(context: Context, rate: Decimal) -> str:
    _defined(rate)
    return formatting.percent(rate, str(context["language"]))


def _finalize(value: object) -> object:
    """``{{ x }}`` with ``x`` None fails rather than printing "None"."""
    if value is None:
        raise ValueError("a value printed by the template is None (missing)")
    return value


def header_text(text: str) -> str:
    """One line fit for a mail header: control characters and breaks become spaces."""
    spaced = "".join(" " if unicodedata.category(c)[0] == "C" else c for c in text)
    return " ".join(spaced.split())


def body_text(text: str) -> str:
    """Plain text with LF line ends, no trailing blanks, at most one empty line."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line.replace("\r", " "))
    while out and not out[-1]:
        out.pop()
    return "\n".join(out) + "\n" if out else ""


class Renderer:
    """Renders Notices from ``template_dirs`` first, then the shipped templates."""

    def __init__(self, template_dirs: Sequence[Path] = ()) -> None:
        missing = [d for d in template_dirs if not Path(d).is_dir()]
        if missing:
            raise ConfigError(
                [
                    Problem(
                        key="templates", value=str(d), expected="an existing folder"
                    )
                    for d in missing
                ]
            )
        self.template_dirs: tuple[Path, ...] = (
            *(Path(d) for d in template_dirs),
            SHIPPED,
        )
        self._loader = FileSystemLoader([str(d) for d in self.template_dirs])
        self._env = ImmutableSandboxedEnvironment(
            loader=self._loader,
            autoescape=select_autoescape(
                ("html", "xml"), default_for_string=False, default=False
            ),
            undefined=StrictUndefined,
            finalize=_finalize,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self._env.filters.update(
            money=_money, day=_day, long_day=_long_day, percent=_percent
        )

    def templates(self) -> dict[tuple[str, str], frozenset[str]]:
        """(language, template) → the parts found, in every folder (no partials)."""
        found: dict[tuple[str, str], set[str]] = {}
        for name in self._loader.list_templates():
            language, _, file = name.partition("/")
            template, _, part = file.partition(".")
            if "/" in file or part not in PARTS or not _TEMPLATE_NAME.match(template):
                continue
            found.setdefault((language, template), set()).add(part)
        return {key: frozenset(parts) for key, parts in found.items()}

    def language(self, notice: Notice, parts: Sequence[str]) -> str:
        """The customer's language when it has every part needed, else French."""
        language = notice.language.strip().lower()
        if _LANGUAGE.match(language) and all(
            self._exists(f"{language}/{notice.template}.{part}") for part in parts
        ):
            return language
        return DEFAULT_LANGUAGE

    def render(self, notice: Notice, *, address: Sequence[str] = ()) -> Rendered:
        """The notice for its channel; ``address`` is the letter's postal address.

        Raises TemplateError naming the template that is missing or fails.
        """
        if not _TEMPLATE_NAME.match(notice.template):
            raise TemplateError(
                [
                    Problem(
                        key=notice.template,
                        value="not a template name",
                        expected="lower-case letters, digits and _",
                    )
                ]
            )
        parts = CHANNEL_PARTS[notice.channel]
        with_letter = notice.channel == "email" and notice.tone == "formal"
        if with_letter:
            parts = (*parts, "letter.txt")
        language = self.language(notice, parts)
        context = _context(notice, language)

        def part(name: str) -> str:
            return self.render_part(f"{language}/{notice.template}.{name}", context)

        if notice.channel == "sms":
            return Rendered(text=formatting.gsm7(part("sms.txt")))
        if notice.channel == "call":
            return Rendered(text=body_text(part("call.txt")))
        subject = header_text(part("subject.txt"))
        pdf = b""
        if notice.channel == "letter" or with_letter:
            body = body_text(part("letter.txt"))
            # fpdf loads only for a letter: a sync never pays for it
            from sageconnect.dunning.letter import letter_pdf  # noqa: PLC0415

            pdf = letter_pdf(
                notice, body, subject=subject, address=address, language=language
            )
        if notice.channel == "letter":
            return Rendered(subject=subject, pdf=pdf)
        html = part("html")
        return Rendered(
            subject=subject,
            text=body_text(part("txt")),
            html=html if html.endswith("\n") else f"{html}\n",
            pdf=pdf,
        )

    def render_part(self, name: str, context: Mapping[str, object]) -> str:
        """One template file rendered with ``context``; TemplateError if it fails."""
        filename: str | None = None
        try:
            template = self._env.get_template(name)
            filename = template.filename
            values = dict(context)
            if name.endswith(".letter.txt"):
                from sageconnect.dunning.letter import INVOICE_TABLE  # noqa: PLC0415

                values["invoice_table"] = INVOICE_TABLE
            return template.render(values)
        except _RENDER_ERRORS as exc:
            raise TemplateError([_problem(name, exc, filename)]) from exc

    def check(self, sample: Notice) -> None:
        """Render every template, every channel, every language against ``sample``.

        Raises one TemplateError listing every template that fails or is missing.
        """
        problems: dict[str, Problem] = {}
        for (language, template), found in sorted(self.templates().items()):
            notice = dataclasses.replace(
                sample, language=language, template=template, step=template
            )
            found_problems = self._check_parts(notice, language, found)
            for variant in _channel_variants(notice):
                try:
                    self.render(variant)
                except TemplateError as exc:
                    found_problems.extend(exc.problems)
            for problem in found_problems:
                problems.setdefault(problem.key, problem)
        if problems:
            raise TemplateError(list(problems.values()))

    def _check_parts(
        self, notice: Notice, language: str, found: frozenset[str]
    ) -> list[Problem]:
        """Each part of one template, rendered alone; a missing one needs French."""
        context = _context(notice, language)
        problems: list[Problem] = []
        for part in PARTS:
            name = f"{language}/{notice.template}.{part}"
            fallback = f"{DEFAULT_LANGUAGE}/{notice.template}.{part}"
            if part in found:
                try:
                    self.render_part(name, context)
                except TemplateError as exc:
                    problems.extend(exc.problems)
            elif not self._exists(fallback):
                value = f"missing, and so is {fallback}"
                problems.append(Problem(key=name, value=value, expected=_EXPECTED))
        return problems

    def _exists(self, name: str) -> bool:
        try:
            self._loader.get_source(self._env, name)
        except jinja2.TemplateNotFound:
            return False
        return True


def check_templates(renderer: Renderer, sample: Notice | None = None) -> None:
    """Start-up check: every template renders against ``sample`` (or a built-in one)."""
    renderer.check(sample or sample_notice())


def _channel_variants(notice: Notice) -> list[Notice]:
    """The notice on every channel, by e-mail both with and without the letter."""
    return [
        dataclasses.replace(notice, channel="email", tone="formal"),
        dataclasses.replace(notice, channel="email", tone="reminder"),
        dataclasses.replace(notice, channel="sms"),
        dataclasses.replace(notice, channel="letter"),
        dataclasses.replace(notice, channel="call"),
    ]


def _context(notice: Notice, language: str) -> dict[str, object]:
    values: dict[str, object] = {
        field.name: getattr(notice, field.name) for field in dataclasses.fields(notice)
    }
    values["notice"] = notice
    values["language"] = language
    values["customer_language"] = notice.language
    return values


def sample_notice() -> Notice:
    """A formal notice with every field set, so every branch of a template runs."""
    as_of = dt.date(2026, 11, 24)
    lines = (
        Line(
            number="FA-0001",
            issued=dt.date(2026, 8, 14),
            due=dt.date(2026, 9, 13),
            amount=Decimal("1234.56"),
            open=Decimal("1234.56"),
            days_overdue=72,
            interest=Decimal("29.59"),
            indemnity=Decimal("40.00"),
        ),
        Line(
            number="FA-0002",
            issued=dt.date(2026, 9, 2),
            due=dt.date(2026, 10, 2),
            amount=Decimal("3600.00"),
            open=Decimal("2100.00"),
            days_overdue=53,
            interest=Decimal("37.05"),
            indemnity=Decimal("40.00"),
        ),
    )
    return Notice(
        key="sample",
        company="SAMPLE",
        sender=Sender(
            name="Exemple SAS",
            email="compta@example.fr",
            phone="04 00 00 00 00",
            address=("1, rue de l'Exemple", "69002 Lyon"),
            siren="000 000 000",
            signature="Service comptabilité clients",
            iban="FR76 0000 0000 0000 0000 0000 000",
        ),
        customer="C0001",
        customer_name="Client Exemple SARL",
        contact_name="Mme Exemple",
        language=DEFAULT_LANGUAGE,
        scenario="default",
        step="formal_notice",
        template="formal_notice",
        tone="formal",
        channel="email",
        as_of=as_of,
        lines=lines,
        total_open=Decimal("3334.56"),
        total_interest=Decimal("66.64"),
        total_indemnity=Decimal("80.00"),
        total_claimed=Decimal("3481.20"),
        claim_interest=True,
        claim_indemnity=True,
        interest_rate=Decimal("12.15"),
        pay_by=as_of + dt.timedelta(days=8),
    )
