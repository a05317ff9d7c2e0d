"""The event log in the REST API: read-only, newest first."""

from rest_framework import serializers, viewsets

from patron.core.api.pagination import CursorPagination
from patron.core.api.serializers import PatronModelSerializer
from patron.events.filters import EventFilterSet
from patron.events.models import Event
from patron.events.privacy import EventPrivacy


class EventListSerializer(serializers.ListSerializer):
    """A page of events, with what the viewer may read of it looked up once for the page."""

    def to_representation(self, data):
        events = list(data.all() if hasattr(data, "all") else data)
        self.child.privacy = EventPrivacy.for_events(events, self.child.viewer)
        try:
            return super().to_representation(events)
        finally:
            self.child.privacy = None


class EventSerializer(PatronModelSerializer):
    """One event as the viewer may read it: a customer they cannot see is named
    "a customer you cannot see" in `changes` and `object_repr` (patron.events.privacy)."""

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
        list_serializer_class = EventListSerializer

    privacy: EventPrivacy | None = None

    @property
    def viewer(self):
        return getattr(self.context.get("request"), "user", None)

    def to_representation(self, event):
        data = super().to_representation(event)
        privacy = self.privacy
        if privacy is None:  # one event on its own (the detail endpoint)
            privacy = EventPrivacy.for_events([event], self.viewer)
        data["changes"] = privacy.changes(event)
        data["object_repr"] = privacy.object_repr(event)
        return data

    def get_object_type(self, event) -> str:
        return f"{event.object_type.app_label}.{event.object_type.model}"


class EventCursorPagination(CursorPagination):
    ordering = ("-created", "-id")


class EventViewSet(viewsets.ReadOnlyModelViewSet):
    """The event log: who changed what, when and why. `changes` maps each field to
    `[before, after]`. Filters: `customer` (id), `account` (account number), `actor`
    (user id), `action`, `object_type` ("app_label.model"), `date_from`, `date_to`.
    A customer the caller cannot see is named "a customer you cannot see"."""

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
