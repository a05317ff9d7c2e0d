"""FilterSets for users and roles, shared by the list pages and the API."""

import django_filters
from django import forms
from django.db.models import Q

from patron.accounts.models import Role, User
from patron.core.filters import StyledFilterSet


class UserFilterSet(StyledFilterSet):
    q = django_filters.CharFilter(
        method="filter_search",
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Username, name, email…"}),
    )
    role = django_filters.ModelChoiceFilter(queryset=Role.objects.all(), label="Role")
    is_active = django_filters.BooleanFilter(
        label="Active",
        widget=forms.Select(choices=[("", "Any"), ("true", "Active"), ("false", "Inactive")]),
    )

    class Meta:
        model = User
        fields = ["q", "role", "is_active"]

    def __init__(self, data=None, queryset=None, *, request=None, **kwargs):
        super().__init__(data, queryset, request=request, **kwargs)
        self.form.fields["role"].empty_label = "Any role"

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(username__icontains=value)
            | Q(first_name__icontains=value)
            | Q(last_name__icontains=value)
            | Q(email__icontains=value)
        )


class RoleFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        field_name="name",
        lookup_expr="icontains",
        label="Search",
        widget=forms.TextInput(
            attrs={"type": "search", "class": "form-control", "placeholder": "Role name…"}
        ),
    )

    class Meta:
        model = Role
        fields = ["q"]
