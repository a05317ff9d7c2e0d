"""The FilterSets for tickets: the ticket list, the closed-ticket report and the API."""

import django_filters
from django import forms

from patron.core.filters import StyledFilterSet
from patron.departments.models import Department
from patron.departments.routing import visible_departments
from patron.tickets.models import Ticket


def departments_for(request):
    if request is None:
        return Department.objects.none()
    return visible_departments(request.user)


def people_for(request):
    from patron.tickets.forms import people

    return people()


class TicketFilterSet(StyledFilterSet):
    q = django_filters.CharFilter(
        field_name="subject",
        lookup_expr="icontains",
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Subject…"}),
    )
    customer = django_filters.NumberFilter(field_name="customer_id", label="Customer (id)")
    department = django_filters.ModelChoiceFilter(
        queryset=departments_for, empty_label="All departments"
    )
    assignee = django_filters.ModelChoiceFilter(queryset=people_for, empty_label="Anyone")
    status = django_filters.ChoiceFilter(choices=Ticket.Status.choices, empty_label="Any status")
    priority = django_filters.ChoiceFilter(
        choices=Ticket.Priority.choices, empty_label="Any priority"
    )

    class Meta:
        model = Ticket
        fields = ["q", "customer", "department", "assignee", "status", "priority"]


class TicketListFilterSet(TicketFilterSet):
    """The ticket list page: the customer comes from a link (`?customer=`), not a box."""

    class Meta(TicketFilterSet.Meta):
        exclude = ["customer"]
        fields = ["q", "department", "assignee", "status", "priority"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.form.fields.pop("customer", None)
        self.filters.pop("customer", None)


class ClosedTicketFilterSet(StyledFilterSet):
    """The closed-ticket report: by department and the day the ticket was closed."""

    department = django_filters.ModelChoiceFilter(
        queryset=departments_for, empty_label="All departments"
    )
    closed_from = django_filters.DateFilter(
        field_name="closed_at",
        lookup_expr="date__gte",
        label="Closed from",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    closed_to = django_filters.DateFilter(
        field_name="closed_at",
        lookup_expr="date__lte",
        label="Closed to",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    class Meta:
        model = Ticket
        fields = ["department", "closed_from", "closed_to"]
