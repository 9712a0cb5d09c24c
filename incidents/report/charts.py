"""The report's charts, rendered on the server as inline SVG by pygal.

pygal's own JavaScript (tooltips, fetched from a CDN by default) is switched off and its inline
config script removed: the page makes no network fetch and runs no inline script (CSP).

Each chart is drawn 420 px wide with 14 px text and shown no wider than 520 px, so its text
stays between ~11 px (a 390 px phone) and ~17 px (a desktop): one drawing reads at both
widths. Counts get whole-number ticks; a legend appears only where colours mean something.
"""

from __future__ import annotations

import math

import pygal
from markupsafe import Markup
from pygal.style import Style

from incidents.change.attribution import LABELS as ORIGIN_LABELS
from incidents.incident.models import ChangeOrigin
from incidents.report.service import UNCLASSIFIED
from incidents.review.forms import DEFECT_CLASSES
from incidents.templating import duration

ACCENT, DANGER, OK, WARN, MUTED = "#1f5fbf", "#b3261e", "#1e7b34", "#a05a00", "#6b7385"
FONT = 14
STYLE = Style(background="white", plot_background="white", foreground="#1d2330",
              foreground_strong="#1d2330", foreground_subtle="#6b7385",
              colors=(ACCENT, "#b35c1e", OK, WARN, MUTED, "#7b3fa0"),
              font_family="system-ui, sans-serif", label_font_size=FONT,
              major_label_font_size=FONT, value_font_size=FONT, legend_font_size=FONT,
              title_font_size=FONT + 1, tooltip_font_size=FONT, no_data_font_size=FONT + 4,
              value_colors=("#1d2330",))
# Outcomes of done items: the colours carry the meaning, so the chart has a legend.
OUTCOME_STYLE = Style(**{**STYLE.to_dict(), "colors": (OK, MUTED, DANGER)})

DEFECT_CLASS_LABELS = dict(DEFECT_CLASSES) | {UNCLASSIFIED: "Unclassified"}


def defect_class_label(key: str) -> str:
    """`contract` → `Contract / integration`, the words the review form uses."""
    return DEFECT_CLASS_LABELS.get(key, key.replace("_", " ").capitalize())


def origin_label(key: str) -> str:
    """`ai_assisted` → `AI-assisted`, the words the changes pages use."""
    try:
        return ORIGIN_LABELS[ChangeOrigin(key)]
    except ValueError:
        return key.replace("_", " ")


def _drop_scripts(root):
    for parent in root.iter():
        for child in list(parent):
            if str(child.tag).rsplit("}", 1)[-1] == "script":
                parent.remove(child)
    return root


def _render(chart) -> Markup:
    chart.add_xml_filter(_drop_scripts)
    return Markup(chart.render(is_unicode=True))


def _chart(kind, title: str, **options):
    config = {"js": [], "disable_xml_declaration": True, "style": STYLE, "width": 420,
              "height": 300, "show_legend": False, "print_values": False, "title": title,
              "no_data_text": "No data", "truncate_label": 22, "truncate_legend": 30,
              "legend_at_bottom": True, "legend_at_bottom_columns": 2, **options}
    return kind(**config)


def count_ticks(values) -> list[int]:
    """Whole-number ticks from 0 past the largest count, at most about six of them."""
    top = max([v for v in values if v is not None] or [0])
    step = max(1, math.ceil(top / 5))
    return list(range(0, max(step, top) + step, step)) if top else [0, 1]


def _counts(chart, values) -> None:
    chart.y_labels = count_ticks(values)
    chart.value_formatter = lambda v: f"{v:.0f}"


def bars(title: str, rows: list[dict], label: str, value: str, *, horizontal=True,
         series: str = "", name=str) -> Markup:
    """One series of counted bars: `name(rows[i][label])` against `rows[i][value]`."""
    chart = _chart(pygal.HorizontalBar if horizontal else pygal.Bar, title,
                   height=max(200, 34 * len(rows) + 90) if horizontal else 300)
    # HorizontalBar draws the first label at the bottom; reverse so the list reads top down.
    ordered = list(reversed(rows)) if horizontal else rows
    chart.x_labels = [name(row[label]) for row in ordered]
    values = [row[value] for row in ordered]
    _counts(chart, values)
    chart.add(series or value, values)
    return _render(chart)


def prevention(figures: dict) -> Markup:
    """The funnel: items created, how many got done, went overdue or were dropped."""
    rows = [{"what": name, "items": figures[name]}
            for name in ("created", "done", "overdue", "dropped")]
    return bars("Prevention items", rows, "what", "items")


def outcomes(figures: dict) -> Markup:
    """What became of done items: held, held but unverified, escaped — one stacked bar."""
    chart = _chart(pygal.HorizontalStackedBar, "Done items: did they hold?", height=200,
                   style=OUTCOME_STYLE, show_legend=True, legend_at_bottom_columns=3)
    chart.x_labels = ["done items"]
    values = [figures["held"], figures["unverified"], figures["escaped"]]
    _counts(chart, [sum(values)])
    for name, count in zip(("held", "unverified", "escaped"), values, strict=True):
        chart.add(name, [count])
    return _render(chart)


def completion(figures: dict) -> Markup:
    chart = _chart(pygal.HorizontalBar, "Completion (%)", height=180, range=(0, 100),
                   value_formatter=lambda v: f"{v:.0f}%", print_values=True,
                   print_values_position="top")
    chart.y_labels = [0, 25, 50, 75, 100]
    chart.x_labels = ["weighted by strength", "overall"]
    chart.add("completion", [None if figures[k] is None else round(100 * figures[k], 1)
                             for k in ("weighted_completion_rate", "completion_rate")])
    return _render(chart)


def times_by_month(rows: list[dict]) -> Markup:
    """Median minutes per month, labelled like the table beside it (`1h 05m`)."""
    chart = _chart(pygal.Line, "Median time to detect and to restore", show_legend=True,
                   x_label_rotation=30, value_formatter=lambda v: duration(v * 60))
    chart.x_labels = [row["month"] for row in rows]
    series = {name: [None if row[key] is None else round(row[key] / 60, 1) for row in rows]
              for key, name in (("median_time_to_detect_s", "time to detect"),
                                ("median_time_to_restore_s", "time to restore"))}
    chart.y_labels = minute_ticks([v for values in series.values() for v in values])
    for name, values in series.items():
        chart.add(name, values)
    return _render(chart)


def minute_ticks(values) -> list[int]:
    """Ticks in round minutes (5m, 15m, 1h, 6h, 1d …) from 0 past the longest time."""
    top = max([v for v in values if v is not None] or [0])
    step = next((s for s in (1, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 2880, 10080)
                 if top / s <= 6), 10080 * math.ceil(top / 10080 / 6) or 10080)
    return list(range(0, math.ceil(top / step) * step + 1, step)) if top else [0, 5]


def change_origin(rows: list[dict]) -> Markup:
    chart = _chart(pygal.Bar, "Incidents and recurrences by triggering change",
                   show_legend=True)
    chart.x_labels = [origin_label(row["change_origin"]) for row in rows]
    incidents = [row["incidents"] for row in rows]
    recurrences = [row["recurrences"] for row in rows]
    _counts(chart, incidents + recurrences)
    chart.add("incidents", incidents)
    chart.add("recurrences", recurrences)
    return _render(chart)


def per_change(rows: list[dict]) -> Markup:
    chart = _chart(pygal.Bar, "Incidents per 100 deployed changes",
                   value_formatter=lambda v: f"{v:g}")
    rows = [row for row in rows if row.get("changes")]
    chart.x_labels = [origin_label(row["change_origin"]) for row in rows]
    chart.add("incidents per 100 changes", [row["incidents_per_100_changes"] for row in rows])
    return _render(chart)


def all_charts(report: dict) -> dict[str, Markup]:
    return {
        "leaks": bars("Leaks per station", report["leaks_by_station"], "station", "leaks"),
        "defect_classes": bars("Recurrences per defect class",
                               report["recurrences_by_defect_class"], "defect_class",
                               "recurrences", name=defect_class_label),
        "stations": bars("Recurrences per missed station", report["recurrences_by_station"],
                         "station", "recurrences"),
        "prevention": prevention(report["prevention"]),
        "outcomes": outcomes(report["prevention"]),
        "completion": completion(report["prevention"]),
        "months": times_by_month(report["by_month"]),
        "origins": change_origin(report["by_change_origin"]),
        "per_change": per_change(report["by_change_origin"]),
    }
