"""The FilterSets for group sets and groups, used by the list pages and the API."""

import django_filters
from django import forms
from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from patron.core.filters import StyledFilterSet
from patron.groups.models import Group, GroupSet


def tree_label(group: Group) -> str:
    """A group indented by its depth, for choice lists ordered as a tree."""
    return f"{'— ' * group.depth}{group.name} ({group.group_set.name})"


@extend_schema_field(OpenApiTypes.INT)
class SubtreeFilter(django_filters.ModelChoiceFilter):
    """A group id; matches that group and every group below it."""


class GroupSetFilterSet(StyledFilterSet):
    q = django_filters.CharFilter(
        method="filter_search",
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name or description"}),
    )

    class Meta:
        model = GroupSet
        fields = ["q"]

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(description__icontains=value))


class GroupFilterSet(StyledFilterSet):
    """Name search, set, parent, subtree, flags and archive state.

    Archived groups are left out unless `archived=archived` or `archived=all`.
    """

    ARCHIVED_CHOICES = [("archived", "Archived"), ("all", "All")]
    YES_NO = [("true", "Yes"), ("false", "No")]

    q = django_filters.CharFilter(
        field_name="name",
        lookup_expr="icontains",
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Group name"}),
    )
    group_set = django_filters.ModelChoiceFilter(
        queryset=GroupSet.objects.all(), label="Set", empty_label="All sets"
    )
    parent = django_filters.ModelChoiceFilter(
        queryset=Group.objects.select_related("group_set"), label="Parent", empty_label="Any parent"
    )
    within = SubtreeFilter(
        queryset=Group.objects.select_related("group_set"),
        method="filter_within",
        label="Within",
        empty_label="Anywhere",
    )
    payment_group = django_filters.ChoiceFilter(
        choices=YES_NO, method="filter_flag", label="Payment group", empty_label="Any"
    )
    personal_customers = django_filters.ChoiceFilter(
        choices=YES_NO, method="filter_flag", label="Personal", empty_label="Any"
    )
    reseller = django_filters.ChoiceFilter(
        choices=YES_NO, method="filter_flag", label="Reseller", empty_label="Any"
    )
    archived = django_filters.ChoiceFilter(
        choices=ARCHIVED_CHOICES,
        method="filter_archived",
        label="Show",
        empty_label="Active groups",
    )

    class Meta:
        model = Group
        fields = [
            "q",
            "group_set",
            "parent",
            "within",
            "payment_group",
            "personal_customers",
            "reseller",
            "archived",
        ]

    def __init__(self, data=None, queryset=None, *, request=None, **kwargs):
        super().__init__(data, queryset, request=request, **kwargs)
        for name in ("parent", "within"):
            self.form.fields[name].label_from_instance = tree_label

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("archived"):
            queryset = queryset.filter(archived=False)
        return queryset

    def filter_flag(self, queryset, name, value):
        return queryset.filter(**{name: value == "true"})

    def filter_within(self, queryset, name, value):
        """The group and every group below it."""
        return queryset.filter(path__startswith=value.path) if value else queryset

    def filter_archived(self, queryset, name, value):
        # "all" keeps both; filter_queryset leaves archived groups out by default.
        return queryset.filter(archived=True) if value == "archived" else queryset
