from django import template

from patron.customers.phones import display_phone

register = template.Library()


@register.filter
def phone(value):
    """+441134960000 -> +44 113 496 0000"""
    return display_phone(value)
