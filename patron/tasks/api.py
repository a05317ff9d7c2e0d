"""Tasks in the REST API. Setting `done` records who finished the task and when."""

from rest_framework import serializers

from patron.core.api.serializers import PatronModelSerializer
from patron.core.api.viewsets import PatronViewSet, ServiceWrites
from patron.tasks import services
from patron.tasks.filters import TaskFilterSet
from patron.tasks.models import Task
from patron.tickets.api import (
    NO_DELETE,
    RoutedSerializerMixin,
    customer_field,
    department_field,
    person_field,
)


class TaskSerializer(RoutedSerializerMixin, PatronModelSerializer):
    customer = customer_field()
    department = department_field()
    assignee = person_field()
    department_name = serializers.CharField(source="department.name", read_only=True)

    class Meta:
        model = Task
        fields = [
            "id",
            "customer",
            "department",
            "department_name",
            "assignee",
            "title",
            "description",
            "due_date",
            "done",
            "done_at",
            "done_by_label",
            "version",
            "created",
            "modified",
        ]
        read_only_fields = ["done_at", "done_by_label", "version", "created", "modified"]


class TaskViewSet(PatronViewSet):
    """Tasks. Filters: `customer`, `department`, `assignee`, `status` (open, done),
    `due_before`."""

    model = Task
    serializer_class = TaskSerializer
    filterset_class = TaskFilterSet
    http_method_names = NO_DELETE
    select_related = ("department",)

    writes = ServiceWrites(
        create=services.task_create,
        update=services.task_update,
        name="task",
        parent="customer",
    )
