"""The one FilterSet for jobs: the job list page and the API."""

import django_filters
from django import forms

from patron.jobs.models import Job
from patron.jobs.registry import job_types


def _kind_choices():
    return sorted(((name, jt.label) for name, jt in job_types().items()), key=lambda c: c[1])


class JobFilterSet(django_filters.FilterSet):
    """Jobs by state and type; `mine=1` keeps the signed-in user's own jobs."""

    state = django_filters.ChoiceFilter(choices=Job.State.choices, label="State")
    kind = django_filters.ChoiceFilter(choices=_kind_choices, label="Type")
    mine = django_filters.BooleanFilter(
        method="filter_mine",
        label="Started by",
        widget=forms.Select(choices=[("", "Anyone"), ("true", "Me")]),
    )

    class Meta:
        model = Job
        fields = ["state", "kind", "mine"]

    def __init__(self, data=None, queryset=None, *, request=None, **kwargs):
        super().__init__(data, queryset, request=request, **kwargs)
        for field in self.form.fields.values():
            field.widget.attrs.setdefault("class", "form-select")

    def filter_mine(self, queryset, name, value):
        user = getattr(self.request, "user", None)
        if not value or user is None:
            return queryset
        return queryset.filter(actor_user=user)
