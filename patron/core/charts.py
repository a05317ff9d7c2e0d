"""Charts as inline SVG, drawn on the server with pygal: no script, no front-end asset.

    from patron.core.charts import bar_chart
    svg = bar_chart("Customers by status", ["Active", "Ceased"], {"Customers": [51, 3]})
    # {{ svg }} in a template: safe markup, <svg role="img"> with a title and description

Every chart takes labels (the x axis) and series (name -> one number per label)
and returns `SafeString` markup. pygal's tooltip script, which it would load from
a CDN, is switched off (`js=[]`) and its inline configuration script removed, so
a page with charts runs no JavaScript for them. Each chart carries a `<title>` and
a `<desc>` that reads out the numbers, and pages show the same numbers in a table
beside the chart: the table, not the picture, is what a screen reader and a test
read.

The palette is chosen for white backgrounds: every series colour contrasts at
least 3:1 with white (WCAG 2.1, 1.4.11 non-text contrast) and the text colours at
least 4.5:1 (1.4.3), checked by `tests/test_charts.py`.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Mapping, Sequence

import pygal
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from pygal.style import Style

BACKGROUND = "#ffffff"
TEXT = "#212529"  # Bootstrap's body text
MUTED_TEXT = "#595f66"  # axis labels: 6.4:1 on white
GUIDE = "#dee2e6"
# Series colours, each at least 3:1 against white; blue first, as Bootstrap's primary.
COLOURS = (
    "#0b5cad",  # blue
    "#b35900",  # orange
    "#1e7b34",  # green
    "#a4262c",  # red
    "#6f42c1",  # purple
    "#0f7b8a",  # teal
    "#5c636a",  # grey
    "#8a5a00",  # ochre
)
FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'

STYLE = Style(
    background=BACKGROUND,
    plot_background=BACKGROUND,
    foreground=TEXT,
    foreground_strong=TEXT,
    foreground_subtle=GUIDE,
    opacity="1",
    opacity_hover="0.85",
    transition="none",
    colors=COLOURS,
    font_family=FONT,
    title_font_family=FONT,
    label_font_family=FONT,
    major_label_font_family=FONT,
    value_font_family=FONT,
    value_label_font_family=FONT,
    legend_font_family=FONT,
    tooltip_font_family=FONT,
    no_data_font_family=FONT,
    title_font_size=18,
    label_font_size=13,
    major_label_font_size=13,
    legend_font_size=13,
    value_font_size=13,
    no_data_font_size=16,
    guide_stroke_color=GUIDE,
    major_guide_stroke_color=GUIDE,
)

_SCRIPT = re.compile(r"<script\b.*?</script>", re.S | re.I)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_ROOT = re.compile(r"<svg\b([^>]*)>")


def integer_ticks(top: float, most: int = 6) -> list[int]:
    """0, step, 2 step... up to at least `top`, with a 1-2-5 step and at most `most` + 1 ticks."""
    top = max(int(math.ceil(top)), 1)
    scale = 1
    while True:
        for step in (scale, 2 * scale, 5 * scale):
            if math.ceil(top / step) <= most:
                return list(range(0, step * math.ceil(top / step) + 1, step))
        scale *= 10


def _config(kind, *, height: int, legend: bool, **extra):
    return kind(
        js=[],  # never load pygal's tooltip script (a CDN)
        css=["file://style.css", "file://graph.css"],  # pygal's own, inlined
        style=STYLE,
        # No title drawn: the page's heading names the chart; the SVG's <title> carries it.
        width=800,
        height=height,
        show_legend=legend,
        legend_at_bottom=True,
        legend_at_bottom_columns=4,
        print_values=False,
        show_y_guides=True,
        show_x_guides=False,
        truncate_label=-1,
        truncate_legend=-1,
        margin=12,
        margin_bottom=20,
        spacing=12,
        no_data_text="Nothing to show yet",
        **extra,
    )


def _number(value) -> str:
    if value is None:
        return "no value"
    return f"{value:g}" if isinstance(value, float) else str(value)


def describe(labels: Sequence[str], series: Mapping[str, Sequence[float | None]]) -> str:
    """The numbers in words, for the chart's <desc>: "Active: 51; Ceased: 3." per series."""
    parts = []
    for name, values in series.items():
        pairs = "; ".join(
            f"{label}: {_number(v)}" for label, v in zip(labels, values, strict=False)
        )
        parts.append(f"{name} — {pairs}." if len(series) > 1 else f"{pairs}.")
    return " ".join(parts) if parts else "No data."


def _finish(chart, title: str, description: str) -> SafeString:
    svg = chart.render(disable_xml_declaration=True, is_unicode=True)
    svg = _COMMENT.sub("", _SCRIPT.sub("", svg))
    ident = f"chart-{uuid.uuid4().hex[:12]}"
    head = (
        f'<title id="{ident}-title">{escape(title)}</title>'
        f'<desc id="{ident}-desc">{escape(description)}</desc>'
    )

    def root(match):
        attrs = match.group(1)
        return (
            f'<svg{attrs} role="img" aria-labelledby="{ident}-title" '
            f'aria-describedby="{ident}-desc" focusable="false" '
            f'preserveAspectRatio="xMidYMid meet">{head}'
        )

    svg = _ROOT.sub(root, svg, count=1)
    svg = svg.replace('class="pygal-chart"', 'class="pygal-chart patron-chart"', 1)
    return mark_safe(svg)  # noqa: S308 - pygal escapes labels; title and desc escaped above


def _build(kind, title, labels, series, *, description=None, height=320, stacked=False, **extra):
    labels = [str(label) for label in labels]
    for name, values in series.items():
        if len(values) != len(labels):
            raise ValueError(f"series {name!r} has {len(values)} values for {len(labels)} labels")
    numbers = [v for values in series.values() for v in values if v is not None]
    if numbers and all(isinstance(v, int) for v in numbers):
        # Counts: whole-number ticks from 0 (pygal would draw 0.1, 0.2...).
        if stacked:
            top = max(sum(vs[i] or 0 for vs in series.values()) for i in range(len(labels)))
        else:
            top = max(numbers)
        extra.setdefault("y_labels", integer_ticks(top))
        extra.setdefault("range", (0, extra["y_labels"][-1]))
    legend = len(series) > 1
    chart = _config(kind, height=height, legend=legend, **extra)
    chart.x_labels = labels
    for name, values in series.items():
        chart.add(str(name), list(values))
    return _finish(chart, title, description or describe(labels, series))


def bar_chart(
    title: str,
    labels: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    *,
    description: str | None = None,
    horizontal: bool = False,
    height: int = 320,
) -> SafeString:
    """Bars side by side, one colour per series."""
    kind = pygal.HorizontalBar if horizontal else pygal.Bar
    return _build(kind, title, labels, series, description=description, height=height)


def stacked_bar_chart(
    title: str,
    labels: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    *,
    description: str | None = None,
    horizontal: bool = False,
    height: int = 320,
) -> SafeString:
    """One bar per label, the series stacked on each other."""
    kind = pygal.HorizontalStackedBar if horizontal else pygal.StackedBar
    return _build(kind, title, labels, series, description=description, height=height, stacked=True)


def line_chart(
    title: str,
    labels: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    *,
    description: str | None = None,
    height: int = 320,
) -> SafeString:
    """A line per series, a dot per value."""
    return _build(
        pygal.Line,
        title,
        labels,
        series,
        description=description,
        height=height,
        dots_size=4,
        stroke_style={"width": 4},
    )
