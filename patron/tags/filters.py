"""The one FilterSet for tags, used by the list page and the API."""

import django_filters
from django import forms
from django.db.models import Q

from patron.tags.models import Tag


class TagFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_search",
        label="Search",
        widget=forms.TextInput(
            attrs={"type": "search", "class": "form-control", "placeholder": "Name or description…"}
        ),
    )

    class Meta:
        model = Tag
        fields = ["q"]

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(description__icontains=value))
