"""The report's charts, rendered on the server as inline SVG by pygal.

pygal's own JavaScript (tooltips, fetched from a CDN by default) is switched off and its inline
config script removed: the page makes no network fetch and runs no inline script (CSP).
"""

from __future__ import annotations

import pygal
from markupsafe import Markup
from pygal.style import Style

STYLE = Style(background="white", plot_background="white", foreground="#1d2330",
              foreground_strong="#1d2330", foreground_subtle="#6b7385",
              colors=("#1f5fbf", "#b3261e", "#1e7b34", "#a05a00", "#6b7385", "#7b3fa0"),
              font_family="system-ui, sans-serif", label_font_size=11,
              major_label_font_size=11, value_font_size=10, title_font_size=14)


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
    config = {"js": [], "disable_xml_declaration": True, "style": STYLE, "width": 640,
              "height": 320, "show_legend": False, "print_values": True, "title": title,
              "no_data_text": "No data", "truncate_label": 40, **options}
    return kind(**config)


def bars(title: str, rows: list[dict], label: str, value: str, *, horizontal=True,
         series: str = "") -> Markup:
    """One series of bars: `rows[i][label]` against `rows[i][value]`."""
    chart = _chart(pygal.HorizontalBar if horizontal else pygal.Bar, title,
                   height=max(220, 28 * len(rows) + 80) if horizontal else 320)
    # HorizontalBar draws the first label at the bottom; reverse so the list reads top down.
    ordered = list(reversed(rows)) if horizontal else rows
    chart.x_labels = [str(row[label]) for row in ordered]
    chart.add(series or value, [row[value] for row in ordered])
    return _render(chart)


def prevention(figures: dict) -> Markup:
    rows = [{"what": name, "items": figures[name]}
            for name in ("created", "done", "overdue", "dropped", "held", "unverified",
                         "escaped")]
    return bars("Prevention items", rows, "what", "items", horizontal=False)


def completion(figures: dict) -> Markup:
    chart = _chart(pygal.Bar, "Completion, overall and weighted by strength (%)",
                   range=(0, 100), value_formatter=lambda v: f"{v:.0f}%")
    chart.x_labels = ["overall", "weighted by strength"]
    chart.add("completion", [None if figures[k] is None else round(100 * figures[k], 1)
                             for k in ("completion_rate", "weighted_completion_rate")])
    return _render(chart)


def times_by_month(rows: list[dict]) -> Markup:
    chart = _chart(pygal.Line, "Median time to detect and to restore (minutes)",
                   show_legend=True, legend_at_bottom=True, x_label_rotation=30)
    chart.x_labels = [row["month"] for row in rows]
    for key, name in (("median_time_to_detect_s", "time to detect"),
                      ("median_time_to_restore_s", "time to restore")):
        chart.add(name, [None if row[key] is None else round(row[key] / 60, 1) for row in rows])
    return _render(chart)


def change_origin(rows: list[dict]) -> Markup:
    chart = _chart(pygal.Bar, "Incidents and recurrences by triggering change",
                   show_legend=True, legend_at_bottom=True)
    chart.x_labels = [row["change_origin"].replace("_", " ") for row in rows]
    chart.add("incidents", [row["incidents"] for row in rows])
    chart.add("recurrences", [row["recurrences"] for row in rows])
    return _render(chart)


def per_change(rows: list[dict]) -> Markup:
    chart = _chart(pygal.Bar, "Incidents per 100 deployed changes, by the change's origin",
                   value_formatter=lambda v: f"{v:g}")
    rows = [row for row in rows if row.get("changes")]
    chart.x_labels = [row["change_origin"].replace("_", " ") for row in rows]
    chart.add("incidents per 100 changes", [row["incidents_per_100_changes"] for row in rows])
    return _render(chart)


def all_charts(report: dict) -> dict[str, Markup]:
    return {
        "leaks": bars("Leaks per station (incidents whose findings name it)",
                      report["leaks_by_station"], "station", "leaks"),
        "defect_classes": bars("Recurrences per defect class",
                               report["recurrences_by_defect_class"], "defect_class",
                               "recurrences"),
        "stations": bars("Recurrences per missed station", report["recurrences_by_station"],
                         "station", "recurrences"),
        "prevention": prevention(report["prevention"]),
        "completion": completion(report["prevention"]),
        "months": times_by_month(report["by_month"]),
        "origins": change_origin(report["by_change_origin"]),
        "per_change": per_change(report["by_change_origin"]),
    }
