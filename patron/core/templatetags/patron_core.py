"""Filters every app's templates use: badge text colour, dates, phones."""

import datetime

from django import template
from django.utils import timezone
from django.utils.formats import date_format

from patron.core.contrast import text_colour

register = template.Library()


@register.filter
def badge_text(colour):
    """#d4a017 -> #000000: the readable text colour on a badge of that colour."""
    return text_colour(colour)


# One way to show a date and a moment everywhere: "6 Dec 2026", "6 Dec 2026 14:05".
DAY_FORMAT = "j M Y"
MOMENT_FORMAT = "j M Y H:i"


@register.filter
def day(value):
    """A date (or the local date of a datetime) as 6 Dec 2026."""
    if not value:
        return ""
    if isinstance(value, datetime.datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return date_format(value, DAY_FORMAT)


@register.filter
def moment(value):
    """A datetime in local time as 6 Dec 2026 14:05."""
    if not value:
        return ""
    if isinstance(value, datetime.datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return date_format(value, MOMENT_FORMAT)
