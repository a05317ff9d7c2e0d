"""Departments in the REST API, with their members as user ids."""

from django.contrib.auth import get_user_model
from rest_framework import serializers

from patron.core.api.serializers import PatronModelSerializer
from patron.core.api.viewsets import PatronViewSet
from patron.departments import services
from patron.departments.filters import DepartmentFilterSet
from patron.departments.forms import member_choices
from patron.departments.models import Department


class DepartmentSerializer(PatronModelSerializer):
    """`members` is a list of user ids and replaces the current members on update."""

    members = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.none(), many=True, required=False
    )

    class Meta:
        model = Department
        fields = [
            "id",
            "name",
            "email",
            "description",
            "members",
            "version",
            "created",
            "modified",
        ]
        read_only_fields = ["version", "created", "modified"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            department = self.instance if isinstance(self.instance, Department) else None
            self.fields["members"].child_relation.queryset = member_choices(
                request.user, department
            )

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["members"] = sorted(data["members"])
        return data


class DepartmentViewSet(PatronViewSet):
    """Departments: the teams notes, tickets and tasks are routed to."""

    model = Department
    serializer_class = DepartmentSerializer
    filterset_class = DepartmentFilterSet
    prefetch_related = ("members",)

    def perform_service_create(self, data):
        data = dict(data)
        members = data.pop("members", None)
        return services.department_create(actor=self.actor, data=data, members=members)

    def perform_service_update(self, instance, data, expected_version):
        data = dict(data)
        members = data.pop("members", None)
        return services.department_update(
            actor=self.actor,
            department=instance,
            data=data,
            members=members,
            expected_version=expected_version,
        )

    def perform_service_delete(self, instance):
        services.department_delete(actor=self.actor, department=instance)
