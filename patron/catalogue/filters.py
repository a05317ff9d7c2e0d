"""The FilterSets of the catalogue, used by its list pages and the API."""

import django_filters
from django import forms

from patron.catalogue.models import InventoryType, Service, TaxRate
from patron.core.filters import StyledFilterSet

ARCHIVED = forms.Select(choices=[("", "Any"), ("false", "Current"), ("true", "Archived")])


def _search(placeholder):
    return django_filters.CharFilter(
        field_name="name",
        lookup_expr="icontains",
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": placeholder}),
    )


class TaxRateFilterSet(StyledFilterSet):
    q = _search("Name…")
    archived = django_filters.BooleanFilter(widget=ARCHIVED)

    class Meta:
        model = TaxRate
        fields = ["q", "archived"]


class InventoryTypeFilterSet(StyledFilterSet):
    q = _search("Name…")
    archived = django_filters.BooleanFilter(widget=ARCHIVED)

    class Meta:
        model = InventoryType
        fields = ["q", "archived"]


class ServiceFilterSet(StyledFilterSet):
    q = django_filters.CharFilter(
        method="search",
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Code or name…"}),
    )
    kind = django_filters.ChoiceFilter(choices=Service.Kind.choices)
    inventory_type = django_filters.ModelChoiceFilter(queryset=InventoryType.objects.all())
    archived = django_filters.BooleanFilter(widget=ARCHIVED)

    class Meta:
        model = Service
        fields = ["q", "kind", "inventory_type", "archived"]

    def search(self, queryset, name, value):
        from django.db.models import Q

        return queryset.filter(Q(code__icontains=value) | Q(name__icontains=value))
