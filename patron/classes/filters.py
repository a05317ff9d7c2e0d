"""The one FilterSet for customer classes, used by the list page and the API."""

import django_filters
from django import forms

from patron.classes.models import CustomerClass


class CustomerClassFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        field_name="name",
        lookup_expr="icontains",
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name…"}),
    )
    verification_required = django_filters.BooleanFilter(
        label="Verification",
        widget=forms.Select(choices=[("", "Any"), ("true", "Required"), ("false", "Not required")]),
    )

    class Meta:
        model = CustomerClass
        fields = ["q", "verification_required"]

    def __init__(self, data=None, queryset=None, *, request=None, **kwargs):
        super().__init__(data, queryset, request=request, **kwargs)
        for field in self.form.fields.values():
            field.widget.attrs.setdefault(
                "class", "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            )
