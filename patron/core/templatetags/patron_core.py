"""Filters every app's templates use: badge text colour, dates, phones."""

from django import template

from patron.core.contrast import text_colour

register = template.Library()


@register.filter
def badge_text(colour):
    """#d4a017 -> #000000: the readable text colour on a badge of that colour."""
    return text_colour(colour)
