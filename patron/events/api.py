"""The event log in the REST API: read-only, newest first."""

from rest_framework import serializers, viewsets

from patron.core.api.pagination import CursorPagination
from patron.events.filters import EventFilterSet
from patron.events.models import Event


class EventSerializer(serializers.ModelSerializer):
    object_type = serializers.SerializerMethodField()
    customer_account_number = serializers.CharField(
        source="customer.account_number", read_only=True, default=None
    )

    class Meta:
        model = Event
        fields = [
            "id",
            "created",
            "actor_kind",
            "actor_user",
            "actor_token",
            "actor_label",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "customer",
            "customer_account_number",
            "message",
            "changes",
            "reason",
        ]
        read_only_fields = fields

    def get_object_type(self, event) -> str:
        return f"{event.object_type.app_label}.{event.object_type.model}"


class EventCursorPagination(CursorPagination):
    ordering = ("-created", "-id")


class EventViewSet(viewsets.ReadOnlyModelViewSet):
    """The event log: who changed what, when and why. `changes` maps each field to
    `[before, after]`. Filters: `customer` (id), `account` (account number), `actor`
    (user id), `action`, `object_type` ("app_label.model"), `date_from`, `date_to`."""

    serializer_class = EventSerializer
    filterset_class = EventFilterSet
    pagination_class = EventCursorPagination
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return (
            Event.objects.restrict(self.request.user, "view")
            .select_related("object_type", "customer")
            .order_by("-created", "-id")
        )
