"""The one FilterSet for tags, used by the list page and the API."""

import django_filters

from patron.tags.models import Tag


class TagFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label="Search")

    class Meta:
        model = Tag
        fields = ["q"]
