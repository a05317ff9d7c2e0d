"""patron/core/charts.py: inline SVG charts with no script, readable colours, a description."""

import re

import pytest
from django.utils.safestring import SafeString

from patron.core import charts


def _luminance(hex_colour: str) -> float:
    def channel(c):
        c = int(c, 16) / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(hex_colour[i : i + 2]) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


@pytest.mark.parametrize(
    "draw",
    [charts.bar_chart, charts.stacked_bar_chart, charts.line_chart],
    ids=lambda f: f.__name__,
)
def test_each_chart_is_safe_inline_svg_without_script_or_outside_address(draw):
    """A chart is one <svg role="img"> with a title and a description; no script, no CDN."""
    svg = draw("Tickets <open>", ["Billing", "Sales & Co"], {"Open": [2, 5], "Pending": [1, 0]})
    assert isinstance(svg, SafeString)
    assert svg.startswith("<svg")
    assert "<?xml" not in svg
    assert "<script" not in svg.lower()
    assert "<!--" not in svg
    # The only address is the SVG namespace (and xlink's): nothing is loaded from outside.
    addresses = set(re.findall(r"https?://[^\"' )]+", svg))
    assert addresses <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
    root = re.match(r"<svg[^>]*>", svg).group(0)
    assert 'role="img"' in root
    title_id = re.search(r'aria-labelledby="([^"]+)"', root).group(1)
    desc_id = re.search(r'aria-describedby="([^"]+)"', root).group(1)
    assert f'<title id="{title_id}">Tickets &lt;open&gt;</title>' in svg
    desc = re.search(rf'<desc id="{desc_id}">(.*?)</desc>', svg).group(1)
    assert desc == "Open — Billing: 2; Sales &amp; Co: 5. Pending — Billing: 1; Sales &amp; Co: 0."
    assert "patron-chart" in root and "viewBox" in root


def test_two_charts_on_one_page_have_their_own_ids():
    """The ids that tie the title and description to the chart differ between charts."""
    first = charts.bar_chart("A", ["x"], {"n": [1]})
    second = charts.bar_chart("A", ["x"], {"n": [1]})
    ids = [re.search(r'aria-labelledby="([^"]+)"', s).group(1) for s in (first, second)]
    assert ids[0] != ids[1]


def test_a_single_series_has_no_legend_and_the_description_reads_its_numbers():
    svg = charts.bar_chart("Customers by status", ["Active", "Ceased"], {"Customers": [51, 3]})
    assert re.search(r"<desc[^>]*>Active: 51; Ceased: 3\.</desc>", svg)
    assert 'class="legends"' not in svg or "Customers</text>" not in svg


def test_counts_get_whole_number_ticks_from_zero():
    """Counts are drawn on 0, 1, 2... (or 0, 2, 4...), never 0.1, 0.2."""
    assert charts.integer_ticks(1) == [0, 1]
    assert charts.integer_ticks(6) == [0, 1, 2, 3, 4, 5, 6]
    assert charts.integer_ticks(7) == [0, 2, 4, 6, 8]
    assert charts.integer_ticks(51) == [0, 10, 20, 30, 40, 50, 60]
    assert charts.integer_ticks(0) == [0, 1]
    svg = charts.line_chart("New", ["Jan", "Feb"], {"New": [0, 1], "Ceased": [1, 0]})
    assert "0.1" not in re.sub(r'd="[^"]*"|[a-z-]+="[\d.]+"', "", svg).split("</defs>", 1)[1]


def test_a_series_of_the_wrong_length_is_refused():
    with pytest.raises(ValueError, match="2 values for 3 labels"):
        charts.bar_chart("A", ["a", "b", "c"], {"n": [1, 2]})


def test_empty_data_says_so():
    svg = charts.bar_chart("Nothing", [], {"n": []})
    assert "Nothing to show yet" in svg


def test_colours_meet_wcag_aa_on_white():
    """Series colours 3:1 against the background (non-text), text colours 4.5:1."""
    for colour in charts.COLOURS:
        assert contrast(colour, charts.BACKGROUND) >= 3, colour
    assert contrast(charts.TEXT, charts.BACKGROUND) >= 4.5
    assert contrast(charts.MUTED_TEXT, charts.BACKGROUND) >= 4.5
    assert charts.STYLE.colors == charts.COLOURS
