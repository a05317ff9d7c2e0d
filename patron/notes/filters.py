"""The FilterSet for notes (API)."""

import django_filters

from patron.notes.models import Note
from patron.tickets.filters import departments_for


class NoteFilterSet(django_filters.FilterSet):
    customer = django_filters.NumberFilter(field_name="customer_id", label="Customer (id)")
    department = django_filters.ModelChoiceFilter(queryset=departments_for)
    addressed_to = django_filters.NumberFilter(field_name="addressed_to_id", label="Person (id)")
    assignee = django_filters.NumberFilter(
        field_name="addressed_to_id", label="Person (id), same as addressed_to"
    )
    pinned = django_filters.BooleanFilter()
    private_to_department = django_filters.BooleanFilter()

    class Meta:
        model = Note
        fields = ["customer", "department", "addressed_to", "assignee", "pinned"]
