"""The report's charts say what the tables beside them say, in the product's words."""

from __future__ import annotations

import re

from incidents.report import charts
from tests.test_report import figures, seed


def _axis_texts(svg: str) -> list[str]:
    """The tick labels of the chart's axes, both of them."""
    texts = []
    for part in svg.split('class="axis ')[1:]:
        part = part.split('class="series')[0].split('class="plot overlay')[0]
        texts += re.findall(r"<text[^>]*>([^<]*)</text>", part)
    return texts


def _legend(svg: str) -> list[str]:
    return re.findall(r'<g id="activate-serie-\d+" class="legend[^"]*">.*?<text[^>]*>([^<]*)'
                      r"</text>", svg)


def test_count_axes_tick_whole_numbers(session):
    seed(session)
    drawn = charts.all_charts(figures(session))
    for name in ("leaks", "defect_classes", "stations", "prevention", "outcomes", "origins"):
        ticks = _axis_texts(str(drawn[name]))
        assert any(re.fullmatch(r"\d+", tick) for tick in ticks), (name, ticks)
        assert not any(re.fullmatch(r"[\d.]*\.\d+", tick) for tick in ticks), (name, ticks)
    assert charts.count_ticks([3]) == [0, 1, 2, 3]
    assert charts.count_ticks([23]) == [0, 5, 10, 15, 20, 25]
    assert charts.count_ticks([]) == [0, 1]


def test_labels_use_the_review_and_changes_words(session):
    seed(session)
    report = figures(session)
    drawn = charts.all_charts(report)
    assert "Contract / integration" in drawn["defect_classes"]
    assert ">contract<" not in drawn["defect_classes"]
    assert "AI-assisted" in drawn["origins"] and "ai assisted" not in drawn["origins"]
    assert charts.defect_class_label("unclassified") == "Unclassified"


def test_outcomes_have_a_legend_apart_from_the_funnel(session):
    seed(session)
    drawn = charts.all_charts(figures(session))
    outcome_legend = _legend(str(drawn["outcomes"]))
    assert outcome_legend == ["held", "unverified", "escaped"]
    funnel = str(drawn["prevention"])
    assert "escaped" not in funnel and "held" not in funnel
    assert _legend(funnel) == []  # one colour, nothing to explain


def test_durations_read_like_the_table():
    svg = str(charts.times_by_month([
        {"month": "2026-03", "median_time_to_detect_s": 600, "median_time_to_restore_s": 7200},
    ]))
    ticks = [t for t in _axis_texts(svg) if t != "2026-03"]
    assert "1h 00m" in ticks and "2h 00m" in ticks, ticks
    assert all(re.fullmatch(r"(\d+h \d\dm|\d+m \d\ds|\d+d \d+h)", t) for t in ticks), ticks
