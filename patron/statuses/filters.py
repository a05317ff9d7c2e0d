"""The one FilterSet for statuses, used by the list page and the API."""

import django_filters
from django import forms
from django.db.models import Q

from patron.core.filters import StyledFilterSet
from patron.statuses.models import Status


def yes_no_any(yes="Yes", no="No"):
    return forms.Select(choices=[("", "Any"), ("true", yes), ("false", no)])


class StatusFilterSet(StyledFilterSet):
    """Search by name or short name; narrow by availability and the main flags."""

    q = django_filters.CharFilter(
        method="filter_search",
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name or short name…"}),
    )
    availability = django_filters.ChoiceFilter(
        choices=Status.Availability.choices, label="Availability", empty_label="Any"
    )
    is_active = django_filters.BooleanFilter(label="Active", widget=yes_no_any())
    billable = django_filters.BooleanFilter(label="Billable", widget=yes_no_any())

    class Meta:
        model = Status
        fields = ["q", "availability", "is_active", "billable"]

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(short_name__icontains=value))
