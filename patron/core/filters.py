"""Shared FilterSet base classes for the list pages and the API.

Every number a list filter takes (an id, a model choice, a number) must fit the
database's 64-bit integers: beyond them SQLite raises OverflowError and
PostgreSQL an out-of-range error, a 500 instead of a message. `PatronFilterSet`
(and so `StyledFilterSet`) refuses such a value as a form error, and the API's
`PatronFilterBackend` does the same for any FilterSet, so `?status=99999999999999999999`
is a 400 saying what is wrong.
"""

import math
import re
from decimal import Decimal
from functools import cache

import django_filters
from django import forms
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from patron.core.forms import restrict_form_fields


def _annotate_method_choice_filters(model, filters) -> None:
    """Tell the OpenAPI schema what a model-choice filter applied by a method takes.

    Its value is the id of a row of its queryset's model, but when its name is
    not a field of the FilterSet's model (the customer list's `tag`), the schema
    generator cannot find that out and warns (in `check --deploy` too).
    """
    for filter_ in filters.values():
        queryset = getattr(filter_, "queryset", None)
        if not filter_.method or not isinstance(queryset, models.QuerySet):
            continue
        try:
            if model is not None:
                model._meta.get_field(filter_.field_name)
                continue
        except FieldDoesNotExist:
            pass
        pk = queryset.model._meta.pk
        kind = OpenApiTypes.INT if isinstance(pk, models.IntegerField) else OpenApiTypes.STR
        extend_schema_field(kind)(filter_)


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
OUT_OF_RANGE = f"“%(value)s” is out of range: numbers here are between {INT64_MIN} and {INT64_MAX}."
_WHOLE_NUMBER = re.compile(r"\s*([+-]?)0*(\d+)\s*")


def _out_of_range(value) -> bool:
    """True for a number beyond 64-bit signed integers: whole-number text, int, float, Decimal."""
    if isinstance(value, str):
        match = _WHOLE_NUMBER.fullmatch(value)
        if match is None:
            return False
        digits = match.group(2)
        # No int() of thousands of digits (Python refuses beyond 4,300).
        return len(digits) > 19 or not INT64_MIN <= int(match.group(1) + digits) <= INT64_MAX
    if isinstance(value, (int, float, Decimal)) and math.isfinite(value):
        return not INT64_MIN <= value <= INT64_MAX
    return False


class _BoundedNumbers:
    """Mixed into a filter's form field: numbers beyond 64 bits are a ValidationError.

    The raw text is checked before the field's own cleaning, which for a
    multiple model choice already queries the database with it.
    """

    def clean(self, value):
        for item in value if isinstance(value, (list, tuple)) else [value]:
            if _out_of_range(item):
                raise ValidationError(OUT_OF_RANGE, code="out_of_range", params={"value": item})
        cleaned = super().clean(value)
        if isinstance(self, forms.DecimalField) and _out_of_range(cleaned):  # 1e30
            raise ValidationError(OUT_OF_RANGE, code="out_of_range", params={"value": value})
        return cleaned


@cache
def _bounded_class(field_class):
    return type(f"Bounded{field_class.__name__}", (_BoundedNumbers, field_class), {})


def _takes_integers(field) -> bool:
    if isinstance(field, (forms.IntegerField, forms.DecimalField)):
        return True
    if isinstance(field, (forms.ModelChoiceField, forms.ModelMultipleChoiceField)):
        if field.to_field_name:
            return isinstance(
                field.queryset.model._meta.get_field(field.to_field_name), models.IntegerField
            )
        return isinstance(field.queryset.model._meta.pk, models.IntegerField)
    return False


def bound_numbers(form) -> None:
    """Give every number and integer-id field of a filter form the 64-bit bounds."""
    for field in form.fields.values():
        if not isinstance(field, _BoundedNumbers) and _takes_integers(field):
            field.__class__ = _bounded_class(type(field))


class PatronFilterSet(django_filters.FilterSet):
    """The base of Patron's FilterSets: choices within the request user's reach
    (`restrict_form_fields`), numbers out of the database's range are form errors."""

    def __init__(self, data=None, queryset=None, *, request=None, **kwargs):
        super().__init__(data, queryset, request=request, **kwargs)
        restrict_form_fields(self.filters, getattr(request, "user", None))

    @property
    def form(self):
        if not hasattr(self, "_form"):
            bound_numbers(super().form)
        return self._form


class PatronFilterBackend(DjangoFilterBackend):
    """The API's filter backend: any FilterSet gets the bounds of `PatronFilterSet`."""

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is not None:
            bound_numbers(filterset.form)
        return filterset


class StyledFilterSet(PatronFilterSet):
    """Bootstrap classes on the filter widgets of the list pages.

    The classes are set when the form is built, so a subclass may first give its
    filters their querysets in `__init__` (the form copies them when it is built).
    """

    @classmethod
    def get_filters(cls):
        filters = super().get_filters()
        _annotate_method_choice_filters(cls._meta.model, filters)
        return filters

    @property
    def form(self):
        if not hasattr(self, "_form"):
            form = super().form
            for field in form.fields.values():
                css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
                field.widget.attrs.setdefault("class", css)
        return self._form
