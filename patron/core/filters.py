"""Shared FilterSet base classes for the list pages and the API."""

import django_filters
from django import forms
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field


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


class StyledFilterSet(django_filters.FilterSet):
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
