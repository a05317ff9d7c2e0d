"""Notes in the REST API. Private notes are a 404 to anyone outside their department."""

from rest_framework import serializers

from patron.core.api.serializers import PatronModelSerializer
from patron.core.api.viewsets import PatronViewSet, ServiceWrites
from patron.notes import services
from patron.notes.filters import NoteFilterSet
from patron.notes.models import Note
from patron.tickets.api import (
    NO_DELETE,
    RoutedSerializerMixin,
    customer_field,
    department_field,
    person_field,
)


class NoteSerializer(RoutedSerializerMixin, PatronModelSerializer):
    """A note on a customer, for a department (optional) and a person (optional)."""

    customer = customer_field()
    department = department_field(allow_null=True, required=False)
    addressed_to = person_field()
    department_name = serializers.CharField(source="department.name", read_only=True)

    class Meta:
        model = Note
        fields = [
            "id",
            "customer",
            "department",
            "department_name",
            "addressed_to",
            "body",
            "pinned",
            "private_to_department",
            "author",
            "author_label",
            "version",
            "created",
            "modified",
        ]
        read_only_fields = ["author", "author_label", "version", "created", "modified"]


class NoteViewSet(PatronViewSet):
    """Notes. Filters: `customer`, `department`, `addressed_to` (or `assignee`), `pinned`,
    `private_to_department`."""

    model = Note
    serializer_class = NoteSerializer
    filterset_class = NoteFilterSet
    http_method_names = NO_DELETE
    select_related = ("department",)

    writes = ServiceWrites(
        create=services.note_create,
        update=services.note_update,
        name="note",
        parent="customer",
    )
