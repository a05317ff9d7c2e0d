"""Shared FilterSet base classes for the list pages and the API."""

import django_filters
from django import forms


class StyledFilterSet(django_filters.FilterSet):
    """Bootstrap classes on the filter widgets of the list pages.

    The classes are set when the form is built, so a subclass may first give its
    filters their querysets in `__init__` (the form copies them when it is built).
    """

    @property
    def form(self):
        if not hasattr(self, "_form"):
            form = super().form
            for field in form.fields.values():
                css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
                field.widget.attrs.setdefault("class", css)
        return self._form
