"""Call logs in the REST API. Filter with `?customer=<id>`."""

from rest_framework import serializers

from patron.calls import services
from patron.calls.filters import CallLogFilterSet
from patron.calls.models import CallLog
from patron.core.api.serializers import PatronModelSerializer
from patron.core.api.viewsets import PatronViewSet, ServiceWrites
from patron.customers.models import Contact, Customer


class CallLogSerializer(PatronModelSerializer):
    """`duration` is in seconds; `staff_user` is whoever logs the call."""

    customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.all())
    contact = serializers.PrimaryKeyRelatedField(
        queryset=Contact.objects.all(), allow_null=True, required=False
    )
    staff_user = serializers.CharField(source="staff_user.username", read_only=True)
    duration_display = serializers.CharField(read_only=True)
    started_at = serializers.DateTimeField(required=False)

    class Meta:
        model = CallLog
        fields = [
            "id",
            "customer",
            "direction",
            "contact",
            "staff_user",
            "started_at",
            "duration",
            "duration_display",
            "summary",
            "outcome",
            "version",
            "created",
            "modified",
        ]
        read_only_fields = ["version", "created", "modified"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            self.fields["customer"].read_only = True


class CallLogViewSet(PatronViewSet):
    """Calls with customers: direction, contact, start, duration, summary, outcome."""

    model = CallLog
    serializer_class = CallLogSerializer
    filterset_class = CallLogFilterSet
    select_related = ("customer", "contact", "staff_user")

    writes = ServiceWrites(
        create=services.call_log_create,
        update=services.call_log_update,
        delete=services.call_log_delete,
        name="call",
        parent="customer",
    )
