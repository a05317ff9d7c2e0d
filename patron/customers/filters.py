"""The one FilterSet for customers: the list page, the API and (later) exports."""

import django_filters
from django import forms
from django.db.models import Exists, OuterRef

from patron.classes.models import CustomerClass
from patron.customers.models import Customer, CustomerTag, GroupMembership
from patron.departments.models import Department
from patron.groups.filters import SubtreeFilter
from patron.groups.models import Group
from patron.statuses.models import Status
from patron.tags.models import Tag


class CustomerFilterSet(django_filters.FilterSet):
    """Search plus tag, group (with subgroups), status, class, department and archive state.

    Archived customers are left out unless `archived=archived` or `archived=all`.
    """

    ARCHIVED_CHOICES = [("", "Active accounts"), ("archived", "Archived"), ("all", "All")]

    q = django_filters.CharFilter(
        method="filter_search",
        label="Search",
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "Name, account no., phone, email, postcode…"}
        ),
    )
    tag = django_filters.ModelMultipleChoiceFilter(
        queryset=Tag.objects.none(), method="filter_tag", label="Tag"
    )
    group = SubtreeFilter(queryset=Group.objects.none(), method="filter_group", label="Group")
    status = django_filters.ModelMultipleChoiceFilter(
        queryset=Status.objects.none(), label="Status"
    )
    customer_class = django_filters.ModelChoiceFilter(
        queryset=CustomerClass.objects.none(), label="Class"
    )
    department = django_filters.ModelChoiceFilter(
        queryset=Department.objects.none(), label="Department"
    )
    kind = django_filters.ChoiceFilter(choices=Customer.Kind.choices, label="Type")
    city = django_filters.CharFilter(field_name="service_city", lookup_expr="iexact", label="City")
    archived = django_filters.ChoiceFilter(
        choices=ARCHIVED_CHOICES[1:],
        method="filter_archived",
        label="Accounts",
        empty_label="Active",
    )

    class Meta:
        model = Customer
        fields = ["q", "tag", "group", "status", "customer_class", "department", "kind", "city"]

    def __init__(self, data=None, queryset=None, *, request=None, **kwargs):
        super().__init__(data, queryset, request=request, **kwargs)
        user = getattr(request, "user", None)
        self.filters["tag"].queryset = Tag.objects.restrict(user)
        self.filters["group"].queryset = Group.objects.restrict(user).select_related("group_set")
        self.filters["status"].queryset = Status.objects.restrict(user).filter(
            visible_in_backend=True
        )
        self.filters["customer_class"].queryset = CustomerClass.objects.restrict(user)
        self.filters["department"].queryset = Department.objects.restrict(user)
        for name in ("tag", "status"):
            self.form.fields[name].widget.attrs.setdefault("class", "form-select")
            self.form.fields[name].widget.attrs.setdefault("size", 1)
        for field in self.form.fields.values():
            field.widget.attrs.setdefault(
                "class", "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            )

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("archived"):
            queryset = queryset.filter(archived=False)
        return queryset

    def filter_search(self, queryset, name, value):
        return queryset.search(value)

    def filter_tag(self, queryset, name, value):
        if not value:
            return queryset
        links = CustomerTag.objects.filter(customer_id=OuterRef("pk"), tag__in=value)
        return queryset.filter(Exists(links))

    def filter_group(self, queryset, name, value):
        """Members of the group or of any group below it."""
        members = GroupMembership.objects.filter(
            customer_id=OuterRef("pk"), group__path__startswith=value.path
        )
        return queryset.filter(Exists(members))

    def filter_archived(self, queryset, name, value):
        # "all" keeps both; filter_queryset leaves archived accounts out by default.
        return queryset.filter(archived=True) if value == "archived" else queryset
