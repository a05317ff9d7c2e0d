"""Filters: the saved-segment list, and the `?q=` filter the customer FilterSet uses.

`SegmentQueryFilter` is how the customer list and the customer API accept the
segment language in `q`: the form field compiles the text for the signed-in
user (so errors show on the field, or as a 400 keyed "q" in the API), and the
filter applies the compiled condition. Plain words still search.
"""

import django_filters
from django import forms
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from patron.segments.language import CompiledSegment, SegmentError
from patron.segments.models import Segment


class SegmentFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_search", label="Search")

    class Meta:
        model = Segment
        fields = ["q", "shared"]

    def filter_search(self, queryset, name, value):
        from django.db.models import Q

        return queryset.filter(Q(name__icontains=value) | Q(query__icontains=value))


class SegmentQueryField(forms.CharField):
    """Text in the segment language, cleaned to a `CompiledSegment`.

    The FilterSet sets `compiler` on the field after building its form (one
    compiler for the whole form, so each list of names is read once). An
    error keeps its column and suggestion in the error's params, so the list
    page can point at the spot; the message already names both.
    """

    compiler = None

    def clean(self, value):
        text = super().clean(value)
        if not text:
            return None
        try:
            return self.compiler.compile(text)
        except SegmentError as exc:
            # "%" is escaped: Django and DRF both format messages with their params.
            raise forms.ValidationError(
                exc.message.replace("%", "%%"),
                code="segment",
                params={
                    "message": exc.message,
                    "position": exc.position,
                    "suggestion": exc.suggestion,
                },
            ) from exc


@extend_schema_field(OpenApiTypes.STR)  # a query in the segment language
class SegmentQueryFilter(django_filters.Filter):
    """Narrows customers by a query; archived accounts are left to the list's own control."""

    field_class = SegmentQueryField

    def filter(self, qs, value):
        if not isinstance(value, CompiledSegment):
            return qs
        return value.apply(qs, exclude_archived_by_default=False)
