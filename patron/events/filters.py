"""The one FilterSet for the event log: the global log page and the API."""

import django_filters
from django import forms
from django.apps import apps

from patron.accounts.models import User
from patron.core.filters import StyledFilterSet
from patron.events.models import Event

# Actions the services write (every `action=` an audit call or service helper passes);
# the API filter accepts any action name.
ACTION_LABELS = {
    "created": "Created",
    "updated": "Changed",
    "deleted": "Deleted",
    "archived": "Archived",
    "restored": "Restored",
    "status_changed": "Status changed",
    "tags_changed": "Tags changed",
    "groups_changed": "Groups changed",
    "members_changed": "Members changed",
    "merged": "Merged",
    "deactivated": "User deactivated",
    "password_set": "Password set",
    "revoked": "Token revoked",
    "status_change_scheduled": "Status change scheduled",
    "status_change_cancelled": "Scheduled status change cancelled",
    "custom_fields_changed": "Custom fields changed",
    "dynamic_group_snapshot": "Dynamic group snapshot",
    "commented": "Ticket commented",
    "pinned": "Note pinned",
    "unpinned": "Note unpinned",
    # The money apps (ledger, catalogue, subscriptions).
    "balance_adjusted": "Balance adjusted",
    "ended": "Service ended",
}


def object_type_choices():
    """("app_label.model", "Customers: contact") for every Patron model."""
    choices = [
        (
            f"{m._meta.app_label}.{m._meta.model_name}",
            f"{m._meta.app_config.verbose_name}: {m._meta.verbose_name}",
        )
        for m in apps.get_models()
        if m.__module__.startswith("patron.") and m._meta.app_label not in {"core", "events"}
    ]
    return sorted(choices, key=lambda c: c[1].lower())


class EventFilterSet(StyledFilterSet):
    """Who (`actor` user id), what (`action`, `object_type` as "app_label.model"),
    which customer (`customer` id or `account` number) and when (`date_from`, `date_to`)."""

    actor = django_filters.ModelChoiceFilter(
        field_name="actor_user", queryset=User.objects.all(), label="Who"
    )
    action = django_filters.CharFilter(
        label="Action",
        widget=forms.Select(choices=[("", "Any action"), *sorted(ACTION_LABELS.items())]),
    )
    object_type = django_filters.ChoiceFilter(
        choices=object_type_choices,
        method="filter_object_type",
        label="Object",
        empty_label="Anything",
    )
    customer = django_filters.NumberFilter(field_name="customer_id", widget=forms.HiddenInput)
    account = django_filters.CharFilter(
        field_name="customer__account_number",
        lookup_expr="iexact",
        label="Account no.",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "e.g. C000123"}),
    )
    date_from = django_filters.DateFilter(
        field_name="created",
        lookup_expr="date__gte",
        label="From",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    date_to = django_filters.DateFilter(
        field_name="created",
        lookup_expr="date__lte",
        label="To",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    class Meta:
        model = Event
        fields = ["actor", "action", "object_type", "customer", "account", "date_from", "date_to"]

    def __init__(self, data=None, queryset=None, *, request=None, **kwargs):
        super().__init__(data, queryset, request=request, **kwargs)
        self.form.fields["actor"].empty_label = "Anyone"

    def filter_object_type(self, queryset, name, value):
        app_label, _, model = value.partition(".")
        return queryset.filter(object_type__app_label=app_label, object_type__model=model)
