"""The FilterSet for tasks (API)."""

import django_filters

from patron.tasks.models import Task
from patron.tickets.filters import departments_for


class TaskFilterSet(django_filters.FilterSet):
    STATUS_CHOICES = [("open", "Open"), ("done", "Done")]

    customer = django_filters.NumberFilter(field_name="customer_id", label="Customer (id)")
    department = django_filters.ModelChoiceFilter(queryset=departments_for)
    assignee = django_filters.NumberFilter(field_name="assignee_id", label="Assignee (id)")
    status = django_filters.ChoiceFilter(
        choices=STATUS_CHOICES, method="filter_status", label="Status"
    )
    due_before = django_filters.DateFilter(field_name="due_date", lookup_expr="lte")

    class Meta:
        model = Task
        fields = ["customer", "department", "assignee", "status", "due_before"]

    def filter_status(self, queryset, name, value):
        return queryset.filter(done=value == "done")
