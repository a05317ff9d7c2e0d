"""The one FilterSet for call logs: the calls list page and `/api/calls/`."""

import django_filters

from patron.calls.models import CallLog
from patron.core.filters import PatronFilterSet


class CallLogFilterSet(PatronFilterSet):
    # A number, not a select: there may be a million customers.
    customer = django_filters.NumberFilter(field_name="customer_id", label="Customer id")
    direction = django_filters.ChoiceFilter(choices=CallLog.Direction.choices)
    outcome = django_filters.ChoiceFilter(choices=CallLog.Outcome.choices)
    started_after = django_filters.IsoDateTimeFilter(field_name="started_at", lookup_expr="gte")
    started_before = django_filters.IsoDateTimeFilter(field_name="started_at", lookup_expr="lt")

    class Meta:
        model = CallLog
        fields = ["customer", "direction", "outcome", "started_after", "started_before"]

    def __init__(self, data=None, queryset=None, *, request=None, **kwargs):
        super().__init__(data, queryset, request=request, **kwargs)
        for field in self.form.fields.values():
            field.widget.attrs.setdefault("class", "form-control")
        for name in ("direction", "outcome"):
            self.form.fields[name].widget.attrs["class"] = "form-select"
