from django import template

from patron.customers.countries import country_name, region_name
from patron.customers.phones import display_phone

register = template.Library()


@register.filter
def phone(value):
    """+441134960000 -> +44 113 496 0000"""
    return display_phone(value)


@register.filter
def country(code):
    """GB -> United Kingdom"""
    return country_name(code)


@register.filter
def region(code):
    """US-CA -> California; free text as written"""
    return region_name(code)
