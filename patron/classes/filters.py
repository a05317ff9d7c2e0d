"""The one FilterSet for customer classes, used by the list page and the API."""

import django_filters
from django import forms

from patron.classes.models import CustomerClass
from patron.core.filters import StyledFilterSet


class CustomerClassFilterSet(StyledFilterSet):
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
