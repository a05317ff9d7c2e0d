"""`{{ amount|money }}` → "£1,204.50"; `{{ amount|money_signed }}` → "+£5.00"."""

from django import template

from patron.core.money import format_money

register = template.Library()


@register.filter
def money(value):
    return format_money(value)


@register.filter
def money_signed(value):
    return format_money(value, signed=True)
