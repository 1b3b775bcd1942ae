"""The reminder as an A4 letter (PDF): the letter channel, and the formal notice.

Layout: the sender top left (name, address, SIREN), the recipient in the window of
a DL envelope on the right, the place and date, the subject in bold, then the body
rendered from the step's ``letter.txt``, the table of invoices with the totals, and
the signature. The table goes where the body has the line :data:`INVOICE_TABLE`
(templates write ``{{ invoice_table }}``), after the body when it has none. A body
line starting with ``# `` is a title, ``## `` a subtitle (bold, centred).

The same notice gives the same bytes: the creation date is the notice's date and
the producer is fixed, so a letter can be archived as evidence and compared.

Fonts: the PDF core fonts (Helvetica), written in cp1252 (WinAnsiEncoding), which
holds French text including ’, œ, « », – and €; nothing is embedded, the file stays
small. A character outside cp1252 (U+202F, an emoji) is replaced by its
unaccented form or ``?``; amounts print the currency code (``EUR``), never a symbol.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence
from decimal import Decimal

from fpdf import FPDF, FontFace, XPos, YPos

from sageconnect.dunning.formatting import NBSP, day, long_day, money, percent
from sageconnect.dunning.message import Line, Notice

INVOICE_TABLE = "[[invoice-table]]"

_LABELS = {
    "fr": {
        "attention": "À l'attention de",
        "place": "{place}, le {date}",
        "date": "Le {date}",
        "subject": "Objet : ",
        "reference": "Code client : ",
        "invoice": "Facture",
        "issued": "Date",
        "due": "Échéance",
        "open": "Reste dû",
        "late": "Retard (j)",
        "interest": "Pénalités",
        "indemnity": "Indemnité",
        "total_open": "Total du principal restant dû",
        "total_interest": "Pénalités de retard au taux annuel de {rate}",
        "total_indemnity": "Indemnités forfaitaires pour frais de recouvrement",
        "total_claimed": "Total réclamé",
        "total": "Total restant dû",
        "page": "page {page}/{nb}",
    },
    "en": {
        "attention": "For the attention of",
        "place": "{place}, {date}",
        "date": "{date}",
        "subject": "Subject: ",
        "reference": "Customer code: ",
        "invoice": "Invoice",
        "issued": "Issued",
        "due": "Due",
        "open": "Open",
        "late": "Days late",
        "interest": "Interest",
        "indemnity": "Indemnity",
        "total_open": "Total principal outstanding",
        "total_interest": "Late-payment interest at {rate} a year",
        "total_indemnity": "Fixed recovery indemnities",
        "total_claimed": "Total claimed",
        "total": "Total outstanding",
        "page": "page {page}/{nb}",
    },
}
_POSTCODE = re.compile(
    r"^(?:F-)?\d{5}\s+(?P<place>.+?)(?:\s+cedex\b.*)?$", re.IGNORECASE
)
_OUTSIDE_CP1252 = {"\u202f": NBSP, "\u2009": " ", "\u2011": "-", "\u2212": "-"}

_LEFT = 20.0
_WIDTH = 170.0
_WINDOW_X = 115.0
_WINDOW_Y = 48.0


def pdf_text(text: str) -> str:
    """``text`` with every character the core fonts (cp1252) can draw.

    Control characters other than line breaks are dropped; a character outside
    cp1252 becomes its unaccented form when that exists there, else ``?``.
    """
    out: list[str] = []
    for char in text.replace("\r\n", "\n").replace("\r", "\n"):
        if char == "\n":
            out.append(char)
            continue
        char = _OUTSIDE_CP1252.get(char, char)  # noqa: PLW2901 - a substitution
        if unicodedata.category(char) == "Cc":
            continue
        if _encodable(char):
            out.append(char)
            continue
        base = "".join(
            c
            for c in unicodedata.normalize("NFKD", char)
            if not unicodedata.combining(c)
        )
        out.append(base if base and _encodable(base) else "?")
    return "".join(out)


def _encodable(text: str) -> bool:
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def _one_line(text: str) -> str:
    """Untrusted single-line data (names from the ledger): no line breaks."""
    return " ".join(pdf_text(text).split())


class _Letter(FPDF):
    """FPDF with the footer every page of a letter carries."""

    def __init__(self, footer: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self._footer = footer  # "{page}" is this page, "{nb}" (fpdf's alias) the last

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font("Helvetica", size=7.5)
        self.set_text_color(110)
        text = self._footer.replace("{page}", str(self.page_no()))
        self.cell(0, 4, pdf_text(text), align="C")
        self.set_text_color(0)


def letter_pdf(
    notice: Notice,
    body: str,
    *,
    subject: str = "",
    address: Sequence[str] = (),
    language: str | None = None,
) -> bytes:
    """The letter for ``notice`` with ``body`` (the rendered ``letter.txt``).

    ``address`` is the recipient's postal address (the notice does not carry it);
    ``language`` defaults to the notice's, and picks the labels.
    """
    lang = language or notice.language
    labels = _LABELS.get(lang, _LABELS["fr"])
    sender = notice.sender
    footer = " — ".join(
        part
        for part in (
            _one_line(sender.name),
            f"SIREN {_one_line(sender.siren)}" if sender.siren else "",
            labels["page"],
        )
        if part
    )
    pdf = _Letter(footer)
    pdf.core_fonts_encoding = "cp1252"
    pdf.set_creation_date(dt.datetime.combine(notice.as_of, dt.time(), tzinfo=dt.UTC))
    pdf.set_producer("sageconnect")
    pdf.set_creator("sageconnect")
    pdf.set_author(_one_line(sender.name))
    pdf.set_title(_one_line(subject))
    pdf.set_lang(lang)
    pdf.set_margins(_LEFT, 18, _LEFT)
    pdf.set_auto_page_break(auto=True, margin=22)
    pdf.add_page()

    _sender_block(pdf, notice)
    _recipient_block(pdf, notice, address, labels)
    _heading(pdf, notice, subject, labels, lang)
    table_drawn = False
    for kind, text in _blocks(body):
        if kind == "table":
            if not table_drawn:
                _invoice_table(pdf, notice, labels, lang)
                table_drawn = True
        elif kind in {"title", "subtitle"}:
            size = 13 if kind == "title" else 10.5
            pdf.set_font("Helvetica", "B", size)
            pdf.multi_cell(
                0,
                size / 2,
                pdf_text(text),
                align="C",
                new_x=XPos.LMARGIN,
                new_y=YPos.NEXT,
            )
            pdf.ln(1.5)
        else:
            pdf.set_font("Helvetica", size=10)
            pdf.multi_cell(
                0, 4.6, pdf_text(text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT
            )
            pdf.ln(2.4)
    if not table_drawn:
        _invoice_table(pdf, notice, labels, lang)
    _signature(pdf, notice)
    return bytes(pdf.output())


def _blocks(body: str) -> list[tuple[str, str]]:
    """The body as titles, paragraphs (lines kept) and the table's place."""
    blocks: list[tuple[str, str]] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            blocks.append(("text", "\n".join(paragraph)))
            paragraph.clear()

    for raw in body.splitlines():
        line = raw.rstrip()
        if line.strip() == INVOICE_TABLE:
            flush()
            blocks.append(("table", ""))
        elif line.startswith(("# ", "## ")):
            flush()
            level, _, title = line.partition(" ")
            blocks.append(("title" if level == "#" else "subtitle", title.strip()))
        elif not line.strip():
            flush()
        else:
            paragraph.append(line)
    flush()
    return blocks


def _sender_block(pdf: FPDF, notice: Notice) -> None:
    sender = notice.sender
    pdf.set_xy(_LEFT, 18)
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(90, 5.5, _one_line(sender.name), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", size=9)
    details = [
        *sender.address,
        f"SIREN {sender.siren}" if sender.siren else "",
        sender.phone,
        sender.email,
    ]
    for line in details:
        if line.strip():
            pdf.cell(90, 4.2, _one_line(line), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _recipient_block(
    pdf: FPDF, notice: Notice, address: Sequence[str], labels: dict[str, str]
) -> None:
    pdf.set_xy(_WINDOW_X, _WINDOW_Y)
    pdf.set_font("Helvetica", "B", 10)
    width = _LEFT + _WIDTH - _WINDOW_X
    pdf.cell(
        width, 5, _one_line(notice.customer_name), new_x=XPos.LEFT, new_y=YPos.NEXT
    )
    pdf.set_font("Helvetica", size=10)
    if notice.contact_name.strip():
        attention = f"{labels['attention']} {notice.contact_name}"
        pdf.cell(width, 5, _one_line(attention), new_x=XPos.LEFT, new_y=YPos.NEXT)
    for line in address:
        if line.strip():
            pdf.cell(width, 5, _one_line(line), new_x=XPos.LEFT, new_y=YPos.NEXT)


def _place(notice: Notice) -> str:
    """The town of the sender's address (its last line with a postcode), or ""."""
    for line in reversed(notice.sender.address):
        found = _POSTCODE.match(" ".join(line.split()))
        if found:
            return found.group("place")
    return ""


def _heading(
    pdf: FPDF, notice: Notice, subject: str, labels: dict[str, str], lang: str
) -> None:
    place = _place(notice)
    when = long_day(notice.as_of, lang)
    dated = (
        labels["place"].format(place=place, date=when)
        if place
        else labels["date"].format(date=when)
    )
    pdf.set_xy(_WINDOW_X, max(pdf.get_y() + 6, 76))
    pdf.set_font("Helvetica", size=10)
    pdf.cell(_LEFT + _WIDTH - _WINDOW_X, 5, _one_line(dated))
    pdf.set_xy(_LEFT, pdf.get_y() + 10)
    pdf.set_font("Helvetica", size=9)
    reference = f"{labels['reference']}{notice.customer}"
    pdf.cell(0, 4.5, _one_line(reference), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if subject.strip():
        pdf.set_font("Helvetica", "B", 10)
        pdf.multi_cell(
            0,
            5,
            _one_line(f"{labels['subject']}{subject}"),
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
    pdf.ln(4)


def _columns(
    notice: Notice, labels: dict[str, str], *, late: bool
) -> list[tuple[str, float, str]]:
    """(heading, width in mm, alignment) of each column the notice needs."""
    columns: list[tuple[str, float, str]] = [
        (labels["invoice"], 30, "L"),
        (labels["issued"], 21, "C"),
        (labels["due"], 21, "C"),
        (labels["open"], 29, "R"),
    ]
    if late:
        columns.append((labels["late"], 17, "R"))
    if notice.claim_interest:
        columns.append((labels["interest"], 26, "R"))
    if notice.claim_indemnity:
        columns.append((labels["indemnity"], 26, "R"))
    return columns


def _cells(notice: Notice, line: Line, lang: str, *, late: bool) -> list[str]:
    def amount(value: Decimal) -> str:
        return money(value, notice.currency, lang)

    row = [line.number, day(line.issued, lang), day(line.due, lang), amount(line.open)]
    if late:
        row.append(str(line.days_overdue))
    if notice.claim_interest:
        row.append(amount(line.interest))
    if notice.claim_indemnity:
        row.append(amount(line.indemnity))
    return row


def _invoice_table(
    pdf: FPDF, notice: Notice, labels: dict[str, str], lang: str
) -> None:
    late = any(line.days_overdue > 0 for line in notice.lines)  # else no such column
    columns = _columns(notice, labels, late=late)
    widths = tuple(width for _, width, _ in columns)
    pdf.set_font("Helvetica", size=8.5)
    with pdf.table(
        width=sum(widths),
        col_widths=widths,
        text_align=tuple(align for _, _, align in columns),
        align="L",
        line_height=5,
        padding=(0.8, 1.2),
        headings_style=FontFace(emphasis="BOLD", fill_color=(232, 232, 232)),
    ) as table:
        heading = table.row()
        for title, _, _ in columns:
            heading.cell(pdf_text(title))
        for line in notice.lines:
            row = table.row()
            for text in _cells(notice, line, lang, late=late):
                row.cell(pdf_text(text))
    pdf.ln(3)
    _totals(pdf, notice, labels, lang)


def _totals(pdf: FPDF, notice: Notice, labels: dict[str, str], lang: str) -> None:
    rows: list[tuple[str, Decimal, bool]] = []
    claims = notice.claim_interest or notice.claim_indemnity
    if claims:
        rows.append((labels["total_open"], notice.total_open, False))
    if notice.claim_interest:
        rate = (
            percent(notice.interest_rate, lang)
            if notice.interest_rate is not None
            else "?"
        )
        label = labels["total_interest"].format(rate=rate)
        rows.append((label, notice.total_interest, False))
    if notice.claim_indemnity:
        rows.append((labels["total_indemnity"], notice.total_indemnity, False))
    if claims:
        rows.append((labels["total_claimed"], notice.total_claimed, True))
    else:
        rows.append((labels["total"], notice.total_open, True))
    for label, value, bold in rows:
        pdf.set_font("Helvetica", "B" if bold else "", 9)
        pdf.cell(130, 5, pdf_text(label), align="R")
        pdf.cell(
            40,
            5,
            pdf_text(money(value, notice.currency, lang)),
            align="R",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
    pdf.ln(4)


def _signature(pdf: FPDF, notice: Notice) -> None:
    sender = notice.sender
    if pdf.get_y() + 12 > pdf.h - pdf.b_margin:
        pdf.add_page()  # keep the signature block in one piece
    pdf.ln(2)
    pdf.set_x(_WINDOW_X)
    pdf.set_font("Helvetica", size=10)
    width = _LEFT + _WIDTH - _WINDOW_X
    if sender.signature.strip():
        pdf.cell(
            width, 5, _one_line(sender.signature), new_x=XPos.LEFT, new_y=YPos.NEXT
        )
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(width, 5, _one_line(sender.name), new_x=XPos.LEFT, new_y=YPos.NEXT)
