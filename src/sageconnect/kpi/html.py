"""The HTML report: one self-contained file (inline CSS, inline SVG, no script, no
link to anything), readable offline and sendable as an e-mail attachment.

It shows the KPI cards, three charts (aged balance, DSO trend from the daily
snapshots, the weekly forecast), the priority list, the largest balances and
the dunning activity, with the formulas at the bottom.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal

from jinja2 import Environment, StrictUndefined

from sageconnect.dunning.formatting import day as short_day
from sageconnect.dunning.formatting import money
from sageconnect.kpi import svg
from sageconnect.kpi.aging import bucket_labels
from sageconnect.kpi.dashboard import Dashboard
from sageconnect.kpi.history import Snapshot

TOP_BALANCES = 25
_SERIES = {
    "dso_countback": "DSO count-back",
    "dso_simple": "DSO ratio",
    "best_dso": "meilleur DSO possible",
}
COLORS = ("#2e7d32", "#f9a825", "#ef6c00", "#d84315", "#b71c1c", "#6a1b9a")

_PAGE = """<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Créances clients – {{ company }} – {{ day(as_of) }}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;
color:#222;background:#fafafa}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.sub{color:#666;font-size:13px}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin-top:16px}
.card{background:#fff;border:1px solid #e0e0e0;border-radius:6px;padding:10px 14px;
min-width:140px}
.card b{display:block;font-size:20px}.card span{font-size:12px;color:#666}
.chart{background:#fff;border:1px solid #e0e0e0;border-radius:6px;max-width:100%;
height:auto}
table{border-collapse:collapse;background:#fff;font-size:13px}
th,td{border-bottom:1px solid #e0e0e0;padding:4px 8px;text-align:left}
td.n,th.n{text-align:right;white-space:nowrap}
.notes{font-size:12px;color:#555;max-width:900px}
</style></head><body>
<h1>Créances clients – {{ company }}</h1>
<div class="sub">Situation au {{ day(as_of) }} · généré le {{ generated }}</div>
<div class="cards">
{% for label, value in cards %}<div class="card"><b>{{ value }}</b>
<span>{{ label }}</span></div>
{% endfor %}</div>
<h2>Balance âgée</h2>
{{ aged_chart | safe }}
<h2>DSO : tendance</h2>
{{ dso_chart | safe }}
<h2>Prévision d'encaissements ({{ weeks }} semaines)</h2>
{{ forecast_chart | safe }}
<p class="sub">Au-delà : {{ eur(board.forecast.later) }} · douteux :
{{ eur(board.forecast.doubtful) }} · en litige : {{ eur(board.forecast.disputed) }}</p>
<h2>À appeler aujourd'hui</h2>
<table id="priority"><tr><th>#</th><th>Client</th><th class="n">En retard</th>
<th class="n">Jours</th><th>Note</th><th>Pourquoi</th></tr>
{% for c in board.priority %}<tr><td>{{ c.rank }}</td>
<td>{{ c.customer }} – {{ c.name }}</td><td class="n">{{ eur(c.overdue) }}</td>
<td class="n">{{ c.oldest_days }}</td><td>{{ c.grade }}</td><td>{{ c.reason }}</td></tr>
{% else %}<tr><td colspan="6">Personne à appeler.</td></tr>{% endfor %}
</table>
<h2>Balance âgée par client ({{ top }} plus gros soldes)</h2>
<table id="aged"><tr><th>Client</th><th class="n">Non échu</th>
{% for label in labels %}<th class="n">{{ french(label) }}</th>{% endfor %}
<th class="n">Non affecté</th><th class="n">Solde</th></tr>
{% for r in rows %}<tr><td>{{ r.customer }} {{ r.name }}</td>
<td class="n">{{ eur(r.not_due) }}</td>
{% for b in r.buckets %}<td class="n">{{ eur(b) }}</td>{% endfor %}
<td class="n">{{ eur(r.unapplied) }}</td><td class="n">{{ eur(r.total) }}</td></tr>
{% endfor %}</table>
<h2>Relances : envois et encaissements qui ont suivi</h2>
<table id="activity"><tr><th>Étape</th><th>Canal</th><th class="n">Messages</th>
<th class="n">Factures</th><th class="n">Relancé</th><th class="n">Payé ensuite</th>
<th class="n">%</th></tr>
{% for a in board.activity %}<tr><td>{{ a.step }}</td><td>{{ a.channel }}</td>
<td class="n">{{ a.messages }}</td><td class="n">{{ a.invoices }}</td>
<td class="n">{{ eur(a.reminded) }}</td><td class="n">{{ eur(a.paid_after) }}</td>
<td class="n">{{ pct(a.paid_share) }}</td></tr>
{% else %}<tr><td colspan="7">Aucune relance envoyée sur la période.</td></tr>
{% endfor %}</table>
<div class="notes"><h2>Méthodes</h2><ul>
<li>Période : {{ day(board.ratios.period_start) }} – {{ day(as_of) }}
({{ board.ratios.days }} jours), ventes nettes {{ eur(board.ratios.sales) }}.</li>
<li>DSO ratio = encours / ventes × jours ; DSO count-back : l'encours est imputé
sur les ventes des mois les plus récents, mois par mois.</li>
<li>Meilleur DSO possible = non échu / ventes × jours ; retard moyen (ADD) =
DSO ratio − meilleur DSO.</li>
<li>CEI = (encours début + ventes − encours fin) / (encours début + ventes − non
échu fin) × 100.</li>
<li>Taux de recouvrement : part du retard au premier jour de la période réglée
depuis.</li>
<li>Prévision : promesses à leur date, sinon échéance + retard habituel du payeur
(moyenne pondérée sur 365 jours) ; au-delà de {{ doubtful }} jours de retard,
douteux.</li></ul></div>
</body></html>
"""

_ENV = Environment(autoescape=True, undefined=StrictUndefined)
_TEMPLATE = _ENV.from_string(_PAGE)  # compiled once, rendered per company


def page(
    board: Dashboard,
    history: Sequence[Snapshot],
    *,
    company: str,
    currency: str,
    generated: dt.datetime,
    doubtful_after: int,
) -> str:
    """The whole report as one HTML document."""

    def eur(value: Decimal) -> str:
        return money(value, currency, "fr")

    t = board.aged_total
    labels = bucket_labels(board.bounds)
    rows = sorted(board.aged, key=lambda row: -row.total)[:TOP_BALANCES]
    return _TEMPLATE.render(
        company=company,
        as_of=board.as_of,
        generated=generated.strftime("%d/%m/%Y %H:%M %Z"),
        day=lambda d: short_day(d, "fr"),
        eur=eur,
        pct=percent,
        french=_french,
        board=board,
        labels=labels,
        rows=[*rows, t],
        top=TOP_BALANCES,
        weeks=len(board.forecast.weeks),
        doubtful=doubtful_after,
        cards=_cards(board, eur),
        aged_chart=svg.bars(
            "chart-aged",
            "Balance âgée",
            ["non échu", *(_french(x) for x in labels)],
            [svg.Series("montant", [t.not_due, *t.buckets], COLORS[0])],
            # the oldest buckets share the last colour when there are more
            colors=[COLORS[min(n, len(COLORS) - 1)] for n in range(len(labels) + 1)],
        ),
        dso_chart=_dso_chart(history, board),
        forecast_chart=svg.bars(
            "chart-forecast",
            "Prévision d'encaissements par semaine",
            [short_day(w.start, "fr")[:5] for w in board.forecast.weeks],
            [
                svg.Series(
                    "échéances", [w.habit for w in board.forecast.weeks], "#1565c0"
                ),
                svg.Series(
                    "promesses", [w.promised for w in board.forecast.weeks], "#8e24aa"
                ),
            ],
        ),
    )


def one_document(pages: Sequence[str]) -> str:
    """Several companies' reports as one page: the first's head, every body."""
    if len(pages) == 1:
        return pages[0]
    bodies = [p.partition("<body>")[2].rpartition("</body>")[0] for p in pages]
    head = pages[0].partition("<body>")[0]
    return head + "<body>" + '<hr class="company">'.join(bodies) + "</body></html>\n"


def days(value: Decimal | None) -> str:
    """A number of days to the tenth, the French way: ``62,9 j``; ``–`` if none."""
    return "–" if value is None else f"{value} j".replace(".", ",")


def percent(value: Decimal | None) -> str:
    """A percentage to the tenth, the French way: ``83,3 %``; ``–`` if none."""
    return "–" if value is None else f"{value} %".replace(".", ",")


def _cards(board: Dashboard, eur: Callable[[Decimal], str]) -> list[tuple[str, str]]:
    r, t = board.ratios, board.aged_total
    return [
        ("Encours", eur(t.total)),
        ("En retard", eur(t.overdue)),
        ("Part en retard", percent(r.overdue_share)),
        ("DSO count-back", days(r.dso_countback)),
        ("DSO ratio", days(r.dso_simple)),
        ("Meilleur DSO possible", days(r.best_dso)),
        ("Retard moyen (ADD)", days(r.add)),
        ("CEI", percent(r.cei)),
        ("Taux de recouvrement", percent(r.recovery_rate)),
        (
            f"Prévu sur {len(board.forecast.weeks)} semaines",
            eur(board.forecast.weeks[-1].cumulative),
        ),
    ]


def _dso_chart(history: Sequence[Snapshot], board: Dashboard) -> str:
    points = [s for s in history if s.day < board.as_of]
    labels = [short_day(s.day, "fr")[:5] for s in points] + [
        short_day(board.as_of, "fr")[:5]
    ]
    r = board.ratios

    def series(name: str, today: Decimal | None, color: str) -> svg.Series:
        values = [*(s.ratio(name) for s in points), today]
        return svg.Series(_SERIES[name], values, color)

    return svg.lines(
        "chart-dso",
        "DSO par jour",
        labels,
        [
            series("dso_countback", r.dso_countback, "#1565c0"),
            series("dso_simple", r.dso_simple, "#ef6c00"),
            series("best_dso", r.best_dso, "#2e7d32"),
        ],
    )


def _french(label: str) -> str:
    """A bucket label as the report shows it: ``1-30 j``, ``> 90 j``."""
    return (
        f"> {label.removeprefix('over ')} j"
        if label.startswith("over")
        else f"{label} j"
    )
