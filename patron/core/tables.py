"""Column definitions shared by the HTML list pages (and later the exports)."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join

from patron.core.contrast import text_colour
from patron.core.templatetags.patron_core import day, moment


@dataclass
class Column:
    """One column: what it shows, how it sorts, and whether it links to the object."""

    name: str
    label: str = ""
    accessor: Callable | None = None
    order_by: str | None = None
    sortable: bool = True
    link: bool = False
    html: Callable | None = None

    def __post_init__(self):
        if not self.label:
            self.label = self.name.replace("_", " ").capitalize()
        if self.sortable and self.order_by is None:
            self.order_by = self.name

    def value(self, obj):
        if self.accessor is not None:
            return self.accessor(obj)
        value = obj
        for part in self.name.split("__"):
            value = getattr(value, part, None)
            if value is None:
                return ""
        display = getattr(obj, f"get_{self.name}_display", None)
        return display() if callable(display) else value

    def render(self, obj):
        if self.html is not None:
            return self.html(obj)
        value = self.value(obj)
        if isinstance(value, bool):
            return format_html(
                '<span class="text-{}">{}</span>',
                "success" if value else "muted",
                "Yes" if value else "No",
            )
        if isinstance(value, datetime.datetime):
            value = moment(value)  # one format on every list: 6 Dec 2026 14:05
        elif isinstance(value, datetime.date):
            value = day(value)
        if self.link and hasattr(obj, "get_absolute_url"):
            return format_html(
                '<a href="{}" class="fw-semibold">{}</a>', obj.get_absolute_url(), value
            )
        return "" if value is None else value


def badge(text, colour="#6c757d", css_class=""):
    """A pill in `colour`, its text black or white by the colour's luminance (WCAG AA)."""
    return format_html(
        '<span class="badge rounded-pill patron-badge {}" style="--badge-colour: {}; color: {}">'
        "{}</span>",
        css_class,
        colour,
        text_colour(colour),
        text,
    )


def status_badge(status, *, short: bool = False):
    """A status in its display colour: the name, or with `short` the short name if it has one."""
    text = (status.short_name or status.name) if short else status.name
    return format_html(
        '<span class="badge status-{}">{}</span>', status.display_class or "secondary", text
    )


def badges(items, colour_attr="colour"):
    return format_html_join(
        " ", "{}", ((badge(i.name, getattr(i, colour_attr, "#6c757d")),) for i in items)
    )
