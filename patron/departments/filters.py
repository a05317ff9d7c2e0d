"""The one FilterSet for departments, used by the list page and the API."""

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q

from patron.core.filters import StyledFilterSet
from patron.departments.models import Department


class DepartmentFilterSet(StyledFilterSet):
    """Search by name or shared mailbox; `member` finds the departments of one user."""

    q = django_filters.CharFilter(
        method="filter_search",
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name or email…"}),
    )
    member = django_filters.ModelChoiceFilter(
        field_name="members", queryset=get_user_model().objects.none(), label="Member"
    )

    class Meta:
        model = Department
        fields = ["q", "member"]

    def __init__(self, data=None, queryset=None, *, request=None, **kwargs):
        super().__init__(data, queryset, request=request, **kwargs)
        self.filters["member"].queryset = (
            get_user_model().objects.restrict(getattr(request, "user", None)).order_by("username")
        )
        self.form.fields["member"].empty_label = "Anyone"

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(email__icontains=value))
