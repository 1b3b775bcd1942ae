from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from jinja2 import UndefinedError
from jinja2.exceptions import SecurityError
from pypdf import PdfReader

from sageconnect.dunning.formatting import (
    NBSP,
    day,
    gsm7,
    long_day,
    money,
    percent,
)
from sageconnect.dunning.ledger import payload
from sageconnect.dunning.message import Line, Notice, Sender, Tone
from sageconnect.dunning.render import (
    Renderer,
    TemplateError,
    check_templates,
    header_text,
)
from sageconnect.errors import ConfigError
from sageconnect.testing import compare_golden

GOLDEN = Path(__file__).parent / "golden"
STEPS = ("courtesy", "first_reminder", "second_reminder", "formal_notice", "escalation")
LANGUAGES = ("fr", "en")
AS_OF = dt.date(2026, 11, 24)
RATE = Decimal("12.15")
INDEMNITY = Decimal("40.00")

SENDER = Sender(
    name="Menuiserie Dufour & Fils SAS",
    email="compta@menuiserie-dufour.fr",
    phone="04 78 12 34 56",
    address=("12, rue de l’Hôtel-de-Ville", "69002 Lyon"),
    siren="812 345 678",
    signature="Service comptabilité clients",
    iban="FR76 3000 4000 0312 3456 7890 143",
)


def _interest(open_: Decimal, days: int) -> Decimal:
    value = open_ * RATE / 100 * days / 365
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _line(
    number: str,
    issued: dt.date,
    due: dt.date,
    amount: str,
    open_: str,
    *,
    claims: bool,
) -> Line:
    days = max((AS_OF - due).days, 0)
    owed = Decimal(open_)
    return Line(
        number=number,
        issued=issued,
        due=due,
        amount=Decimal(amount),
        open=owed,
        days_overdue=days,
        interest=_interest(owed, days) if claims else Decimal("0.00"),
        indemnity=INDEMNITY if claims and days > 0 else Decimal("0.00"),
    )


def _overdue(*, claims: bool) -> tuple[Line, ...]:
    return (
        _line(
            "FA-2026-0412",
            dt.date(2026, 8, 14),
            dt.date(2026, 9, 13),
            "1234.56",
            "1234.56",
            claims=claims,
        ),
        _line(
            "FA-2026-0467",
            dt.date(2026, 9, 2),
            dt.date(2026, 10, 2),
            "3600.00",
            "2100.00",
            claims=claims,
        ),
        _line(
            "FA-2026-0501",
            dt.date(2026, 9, 30),
            dt.date(2026, 10, 30),
            "12480.00",
            "12480.00",
            claims=claims,
        ),
    )


def _upcoming() -> tuple[Line, ...]:
    return (
        _line(
            "FA-2026-0588",
            dt.date(2026, 10, 28),
            dt.date(2026, 11, 27),
            "4980.00",
            "4980.00",
            claims=False,
        ),
        _line(
            "FA-2026-0593",
            dt.date(2026, 10, 30),
            dt.date(2026, 11, 29),
            "760.80",
            "760.80",
            claims=False,
        ),
    )


STEP_SETUP: dict[str, tuple[Tone, bool, bool, bool]] = {
    # step: tone, claim_interest, claim_indemnity, deadline given
    "courtesy": ("courteous", False, False, False),
    "first_reminder": ("reminder", False, False, False),
    "second_reminder": ("firm", False, True, False),
    "formal_notice": ("formal", True, True, True),
    "escalation": ("escalation", True, True, True),
}


def notice_for(step: str, language: str = "fr", **changes: Any) -> Notice:
    """The notice the planner would make at ``step`` for a Lyon-area customer."""
    tone, interest, indemnity, deadline = STEP_SETUP[step]
    claims = interest or indemnity
    lines = _upcoming() if step == "courtesy" else _overdue(claims=claims)
    if not interest:
        lines = tuple(dataclasses.replace(li, interest=Decimal("0.00")) for li in lines)
    total_open = sum((li.open for li in lines), Decimal("0.00"))
    total_interest = sum((li.interest for li in lines), Decimal("0.00"))
    total_indemnity = sum((li.indemnity for li in lines), Decimal("0.00"))
    notice = Notice(
        key=f"LYON01:C0042:{step}",
        company="LYON01",
        sender=SENDER,
        customer="C0042",
        customer_name="Bœuf & Cœur – Restauration d’Entreprise SARL",
        contact_name="" if step == "escalation" else "Mme Hélène Lefèvre",
        language=language,
        scenario="standard",
        step=step,
        template=step,
        tone=tone,
        channel="email",
        as_of=AS_OF,
        lines=lines,
        total_open=total_open,
        total_interest=total_interest,
        total_indemnity=total_indemnity,
        total_claimed=total_open + total_interest + total_indemnity,
        claim_interest=interest,
        claim_indemnity=indemnity,
        interest_rate=RATE if interest else None,
        pay_by=AS_OF + dt.timedelta(days=8) if deadline else None,
    )
    return dataclasses.replace(notice, **changes)


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer()


def _plain(text: str) -> str:
    """pypdf reads a NO-BREAK SPACE back as a plain space."""
    return text.replace(NBSP, " ")


def _pdf_text(pdf: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(pdf))
    lines: list[str] = []
    for number, page in enumerate(reader.pages, start=1):
        lines.append(f"=== page {number} ===")
        lines.extend(line.rstrip() for line in page.extract_text().splitlines())
    return lines


# --- formatting ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "language", "expected"),
    [
        ("1234.56", "fr", f"1{NBSP}234,56{NBSP}EUR"),
        ("1234.56", "en", f"EUR{NBSP}1,234.56"),
        ("40", "fr", f"40,00{NBSP}EUR"),
        ("0.005", "fr", f"0,01{NBSP}EUR"),
        ("1234567.125", "en", f"EUR{NBSP}1,234,567.13"),
        ("-1234.5", "fr", f"-1{NBSP}234,50{NBSP}EUR"),
    ],
)
def test_money_prints_french_and_english_amounts(
    amount: str, language: str, expected: str
) -> None:
    """Amounts print to the cent, half up, with NO-BREAK SPACEs (never wrapped)."""
    assert money(Decimal(amount), "EUR", language) == expected


def test_money_refuses_what_is_not_an_amount() -> None:
    """A missing amount (None) or a float fails instead of printing nonsense."""
    with pytest.raises(TypeError):
        money(None, "EUR", "fr")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        money(12.5, "EUR", "fr")  # type: ignore[arg-type]


def test_dates_print_without_the_locale_module() -> None:
    """Dates are 24/11/2026 in French and 24 Nov 2026 in English, in words on letters."""
    assert day(AS_OF, "fr") == "24/11/2026"
    assert day(AS_OF, "en") == "24 Nov 2026"
    assert day(dt.date(2026, 9, 4), "en") == "4 Sep 2026"
    assert long_day(dt.date(2026, 12, 1), "fr") == "1er décembre 2026"
    assert long_day(AS_OF, "en") == "24 November 2026"


@pytest.mark.parametrize(
    ("rate", "language", "expected"),
    [
        ("12.15", "fr", f"12,15{NBSP}%"),
        ("12.15", "en", "12.15%"),
        ("10", "fr", f"10,00{NBSP}%"),
        ("2.625", "fr", f"2,625{NBSP}%"),
    ],
)
def test_percent_prints_rates(rate: str, language: str, expected: str) -> None:
    """Rates keep two decimals at least and the ones they have, up to four."""
    assert percent(Decimal(rate), language) == expected


def test_gsm7_turns_french_typography_into_plain_sms_text() -> None:
    """Typographic characters become plain, control characters go, GSM-7 letters stay."""
    text = f"L’œuvre\r\n– 1{NBSP}234,56{NBSP}EUR\x07 à régler : «\u00a0fête\u00a0»"
    assert gsm7(text) == 'L\'oeuvre\n- 1 234,56 EUR à régler : " fete "'


def test_header_text_keeps_one_line() -> None:
    """Line breaks, tabs and other control characters never survive in a header."""
    assert header_text("Evil\r\nBcc: x@y\u2028\x00 SARL\n") == "Evil Bcc: x@y SARL"


# --- goldens -------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("step", STEPS)
def test_email_sms_and_call_match_golden(
    renderer: Renderer, step: str, language: str, update_golden: bool
) -> None:
    """Every step renders its e-mail, SMS and call task as the golden files say."""
    email = renderer.render(notice_for(step, language))
    sms = renderer.render(notice_for(step, language, channel="sms"))
    call = renderer.render(notice_for(step, language, channel="call"))
    compare_golden(
        GOLDEN / language / f"{step}.email.txt",
        [
            "=== subject ===",
            email.subject,
            "=== text ===",
            *email.text.splitlines(),
            "=== html ===",
            *email.html.splitlines(),
        ],
        update=update_golden,
    )
    compare_golden(
        GOLDEN / language / f"{step}.sms.txt",
        sms.text.splitlines(),
        update=update_golden,
    )
    compare_golden(
        GOLDEN / language / f"{step}.call.txt",
        call.text.splitlines(),
        update=update_golden,
    )
    assert bool(email.pdf) == (step == "formal_notice"), (
        "only a formal e-mail has a PDF"
    )
    assert not sms.subject
    assert not sms.html
    assert not call.html


@pytest.mark.parametrize("language", LANGUAGES)
def test_formal_notice_letter_matches_golden(
    renderer: Renderer, language: str, update_golden: bool
) -> None:
    """The mise en demeure's PDF text is the golden one."""
    letter = renderer.render(
        notice_for("formal_notice", language, channel="letter"),
        address=("ZA des Platières", "38 allée des Érables", "69330 Meyzieu"),
    )
    assert letter.pdf.startswith(b"%PDF-")
    assert letter.subject
    compare_golden(
        GOLDEN / language / "formal_notice.letter.txt",
        _pdf_text(letter.pdf),
        update=update_golden,
    )


def test_formal_notice_letter_holds_what_a_mise_en_demeure_must(
    renderer: Renderer,
) -> None:
    """Title, debt per invoice, EUR 40 each, rate, demand, deadline, consequence, L441-10."""
    notice = notice_for("formal_notice", channel="letter")
    text = " ".join(" ".join(_pdf_text(renderer.render(notice).pdf)).split())
    assert "MISE EN DEMEURE" in text
    assert "Lettre recommandée avec accusé de réception" in text
    for line in notice.lines:
        assert line.number in text
        assert _plain(money(line.open, "EUR", "fr")) in text
        assert day(line.due, "fr") in text
    assert text.count("40,00 EUR") == len(notice.lines)
    assert "12,15 %" in text
    assert _plain(money(notice.total_claimed, "EUR", "fr")) in text
    assert "au plus tard le 02/12/2026" in text
    assert "nous engagerons sans autre avis une procédure judiciaire" in text
    assert "injonction de payer" in text
    assert "L441-10" in text
    assert "D441-5" in text
    assert "Bœuf & Cœur – Restauration d’Entreprise SARL" in text
    assert "Lyon, le 24 novembre 2026" in text
    assert "SIREN 812 345 678" in text


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("channel", ["email", "letter", "sms", "call"])
@pytest.mark.parametrize("step", STEPS)
def test_no_reminder_claims_to_interrupt_prescription(
    renderer: Renderer, step: str, channel: str, language: str
) -> None:
    """A mise en demeure does not interrupt prescription, so no reminder says it does."""
    out = renderer.render(notice_for(step, language, channel=channel))
    pdf = _pdf_text(out.pdf) if out.pdf else []
    text = " ".join([out.subject, out.text, out.html, *pdf])
    for word in ("prescription", "interromp", "interrupt", "statute of limitation"):
        assert word not in text.lower()


def test_same_notice_gives_the_same_pdf_bytes(renderer: Renderer) -> None:
    """The letter is deterministic: dated by the notice, produced by sageconnect."""
    notice = notice_for("formal_notice", channel="letter")
    first = renderer.render(notice).pdf
    assert renderer.render(notice).pdf == first
    metadata = PdfReader(io.BytesIO(first)).metadata
    assert metadata is not None
    assert metadata.producer == "sageconnect"
    assert metadata.creation_date is not None
    assert metadata.creation_date.date() == AS_OF


def test_formal_email_attaches_the_letter(renderer: Renderer) -> None:
    """A formal e-mail carries the same letter the letter channel prints."""
    email = renderer.render(notice_for("formal_notice"))
    letter = renderer.render(notice_for("formal_notice", channel="letter"))
    assert email.pdf == letter.pdf
    assert email.subject == letter.subject


def test_sms_text_is_plain_gsm7(renderer: Renderer) -> None:
    """SMS text has no no-break space, typographic quote or line break."""
    for step in STEPS:
        text = renderer.render(notice_for(step, channel="sms")).text
        assert NBSP not in text
        assert "’" not in text
        assert "\n" not in text


# --- injection and template safety ----------------------------------------------


@pytest.mark.parametrize("step", STEPS)
def test_customer_markup_is_escaped_in_html(renderer: Renderer, step: str) -> None:
    """A customer name holding a script tag is escaped in HTML, left as is in text."""
    name = "<script>alert(1)</script>"
    out = renderer.render(notice_for(step, customer_name=name, contact_name=name))
    assert "<script>" not in out.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out.html
    assert name in out.subject


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("channel", ["email", "letter"])
@pytest.mark.parametrize("step", STEPS)
def test_line_breaks_in_a_name_never_reach_the_subject(
    renderer: Renderer, step: str, channel: str, language: str
) -> None:
    """A name with CR/LF cannot add a header: the subject stays on one line."""
    notice = notice_for(
        step, language, channel=channel, customer_name="Evil\r\nBcc: x@y"
    )
    subject = renderer.render(notice).subject
    assert "\r" not in subject
    assert "\n" not in subject
    assert subject.endswith("Evil Bcc: x@y")


def test_missing_variable_in_user_template_names_the_template(tmp_path: Path) -> None:
    """StrictUndefined: a variable the notice lacks fails the render, naming the file."""
    (tmp_path / "fr").mkdir()
    (tmp_path / "fr" / "first_reminder.txt").write_text(
        "Bonjour,\n\nVotre solde : {{ solde|money }}\n", encoding="utf-8"
    )
    with pytest.raises(TemplateError) as caught:
        Renderer([tmp_path]).render(notice_for("first_reminder"))
    assert caught.value.templates == ["fr/first_reminder.txt"]
    assert "fr/first_reminder.txt" in str(caught.value)
    assert "line 3" in str(caught.value)
    assert isinstance(caught.value.__cause__, UndefinedError)
    assert isinstance(caught.value, ConfigError)


def test_a_none_value_fails_instead_of_printing_none(renderer: Renderer) -> None:
    """A formal notice without a deadline is refused rather than sent "by None"."""
    with pytest.raises(TemplateError) as caught:
        renderer.render(notice_for("formal_notice", pay_by=None))
    assert caught.value.templates[0].startswith("fr/formal_notice.")


@pytest.mark.parametrize(
    "payload",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ lines.__class__.__base__.__subclasses__() }}",
        "{{ notice.__init__.__globals__ }}",
        "{{ (sender|attr('__class__')).__mro__ }}",
    ],
)
def test_sandbox_refuses_attribute_escapes(tmp_path: Path, payload: str) -> None:
    """Templates run in Jinja's sandbox: dunder access is a SecurityError."""
    (tmp_path / "fr").mkdir()
    (tmp_path / "fr" / "courtesy.txt").write_text(payload, encoding="utf-8")
    with pytest.raises(TemplateError) as caught:
        Renderer([tmp_path]).render(notice_for("courtesy"))
    assert isinstance(caught.value.__cause__, SecurityError)


def test_user_folder_overrides_one_shipped_template(
    tmp_path: Path, renderer: Renderer
) -> None:
    """A file in the integrator's folder replaces its shipped twin, and only it."""
    (tmp_path / "fr").mkdir()
    (tmp_path / "fr" / "first_reminder.subject.txt").write_text(
        "Factures en attente de règlement – {{ customer_name }}\n", encoding="utf-8"
    )
    notice = notice_for("first_reminder")
    custom = Renderer([tmp_path]).render(notice)
    shipped = renderer.render(notice)
    assert custom.subject == (
        "Factures en attente de règlement – Bœuf & Cœur – Restauration d’Entreprise SARL"
    )
    assert custom.text == shipped.text
    assert custom.html == shipped.html


def test_unknown_language_falls_back_to_french(renderer: Renderer) -> None:
    """A customer language without templates gets the French ones."""
    german = renderer.render(notice_for("first_reminder", "de"))
    assert german == renderer.render(notice_for("first_reminder", "fr"))


def test_template_name_cannot_leave_the_template_folders(renderer: Renderer) -> None:
    """A template name is a plain word: no path from configuration reaches the loader."""
    with pytest.raises(TemplateError, match="not a template name"):
        renderer.render(notice_for("courtesy", template="../../etc/passwd"))


def test_missing_template_folder_is_a_config_error(tmp_path: Path) -> None:
    """A template folder that does not exist is reported at start-up."""
    with pytest.raises(ConfigError, match="an existing folder"):
        Renderer([tmp_path / "nowhere"])


def test_check_templates_accepts_the_shipped_set(renderer: Renderer) -> None:
    """Every shipped template renders on every channel in French and English."""
    check_templates(renderer, notice_for("formal_notice"))
    assert set(renderer.templates()) == {(lang, s) for lang in LANGUAGES for s in STEPS}


def test_check_templates_lists_every_broken_template(tmp_path: Path) -> None:
    """The start-up check names each template that fails, syntax or variable."""
    (tmp_path / "fr").mkdir()
    (tmp_path / "en").mkdir()
    (tmp_path / "fr" / "courtesy.html").write_text("<p>{% if %}</p>", encoding="utf-8")
    (tmp_path / "en" / "courtesy.sms.txt").write_text(
        "{{ total_open|money }} {{ oops }}", encoding="utf-8"
    )
    (tmp_path / "fr" / "special.txt").write_text(
        "{{ customer_name }}", encoding="utf-8"
    )
    with pytest.raises(TemplateError) as caught:
        check_templates(Renderer([tmp_path]), notice_for("formal_notice"))
    names = caught.value.templates
    assert "fr/courtesy.html" in names
    assert "en/courtesy.sms.txt" in names
    assert "fr/special.subject.txt" in names  # a new template must have every part
    assert "fr/courtesy.txt" not in names


@pytest.mark.parametrize("step", sorted(STEP_SETUP))
def test_the_recorded_payload_is_the_json_of_the_whole_notice(step: str) -> None:
    """What the ledger records of a notice is every field of it, nested (sender,
    lines), as ``dataclasses.asdict`` gives them, whatever the step."""
    notice = notice_for(step)
    listed = dataclasses.replace(notice, lines=list(notice.lines))  # type: ignore[arg-type]

    def plain(value: object) -> str:
        assert isinstance(value, Decimal | dt.date)
        return str(value)

    expected = json.dumps(
        dataclasses.asdict(notice), default=plain, sort_keys=True, ensure_ascii=False
    )
    assert payload(notice) == expected
    assert payload(listed) == expected
    assert json.loads(payload(notice))["lines"][0]["number"] == notice.lines[0].number
