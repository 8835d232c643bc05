"""The reports' charts: SVG drawn on the server by pygal, one image per report.

Why: a chart library made for it (axes, legends, scales) rather than hand-drawn rectangles, with
no network and no script: pygal renders plain SVG here, its optional JavaScript is not asked for
(``js=[]``) and the small configuration script it still writes is removed, so the image works
under the console's strict CSP when embedded with ``<img>``. Every chart repeats numbers the page
also shows in a table, for screen readers and for copying.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from typing import Any

import pygal
from pygal.style import Style

from oathdesk.service.reports import Report

# pygal appends a finder for its map plugins (``pygal.maps.*``, not used here) to sys.meta_path;
# it has no ``find_spec``, so every later import that reaches it warns (an error where warnings
# are errors, as in the tests). Take it out again.
sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "PluginImportFixer"]

SCRIPT = re.compile(rb"<script\b.*?</script>", re.DOTALL | re.IGNORECASE)
# High-contrast colours on white (each passes 3:1 against the background for graphics).
STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1f2328",
    foreground_strong="#1f2328",
    foreground_subtle="#57606a",
    colors=("#0b5cad", "#b35900", "#1a7f37", "#8250df", "#cf222e"),
    font_family="system-ui, sans-serif",
    title_font_size=16,
    label_font_size=12,
    major_label_font_size=12,
    legend_font_size=12,
    value_font_size=11,
)
COMMON: dict[str, Any] = {
    "js": [],  # no external script: nothing may run in the image
    "style": STYLE,
    "width": 640,
    "height": 320,
    "explicit_size": True,
    "print_values": True,
    "show_y_guides": True,
    "no_data_text": "Nothing to show",
    "truncate_label": 28,
}
CHART_SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'"


def whole_scale(values: list[int]) -> dict[str, Any]:
    """An axis of whole numbers from 0 (counts of tokens have no 0.2), about five steps."""
    top = max([*values, 1])
    step = -(-top // 5)
    labels = list(range(0, top + step, step))
    return {"range": (0, labels[-1]), "y_labels": labels}


def _bars(title: str, labels: list[str], series: dict[str, list[int]], *, horizontal: bool) -> Any:
    everything = [v for values in series.values() for v in values]
    chart = (pygal.HorizontalBar if horizontal else pygal.Bar)(
        title=title, show_legend=len(series) > 1, **COMMON, **whole_scale(everything)
    )
    chart.x_labels = labels
    for name, values in series.items():
        chart.add(name, values)
    return chart


def _by_model(report: Report) -> tuple[list[str], list[int]]:
    counted = Counter(str(row[1]) or "unknown model" for row in report.rows)
    ordered = counted.most_common(12)
    return [label for label, _ in ordered], [n for _, n in ordered]


def chart_for(report: Report) -> Any:
    """The pygal chart of ``report`` (its kind chosen by what the rows hold)."""
    if report.name == "stock":
        labels = [f"{r[1] or r[0] or 'unknown'} · {r[2] or 'no batch'}" for r in report.rows]
        return _bars(report.title, labels, {"Tokens": [r[4] for r in report.rows]}, horizontal=True)
    if report.name == "activity":
        counts = [n for r in report.rows for n in (r[1], r[2])]
        chart = pygal.Line(title=report.title, show_legend=True, **COMMON, **whole_scale(counts))
        chart.x_labels = [r[0] for r in report.rows]
        chart.x_label_rotation = 30
        chart.add("Assigned", [r[1] for r in report.rows])
        chart.add("Activated", [r[2] for r in report.rows])
        return chart
    if report.name in ("failed", "lost"):
        labels, values = _by_model(report)
        return _bars(f"{report.title} by model", labels, {"Tokens": values}, horizontal=True)
    if report.name == "unused":
        never, total = report.summary["never_used"], report.summary["tokens"]
        return _bars(
            report.title,
            ["Never used since activation", "Last used before then"],
            {"Tokens": [never, total - never]},
            horizontal=True,
        )
    # age and drift: one label and one count per row
    return _bars(
        report.title,
        [str(r[0]) for r in report.rows],
        {"Tokens": [r[1] for r in report.rows]},
        horizontal=False,
    )


def render_svg(report: Report) -> bytes:
    """The chart as a standalone SVG document without any ``<script>`` element."""
    svg: bytes = chart_for(report).render()
    cleaned = SCRIPT.sub(b"", svg)
    if b"<script" in cleaned.lower():  # pygal changed how it writes scripts: refuse to serve it
        raise ValueError("the chart still holds a script")
    return cleaned
