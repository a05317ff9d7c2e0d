"""Group sets and groups in the REST API, over the same services and FilterSets."""

from django.db.models import Count
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from patron.core.api.viewsets import PatronViewSet
from patron.groups import services
from patron.groups.filters import GroupFilterSet, GroupSetFilterSet
from patron.groups.models import Group, GroupSet


class GroupSetSerializer(serializers.ModelSerializer):
    """A group set; `single_choice` sets whether a customer may hold one or several
    of its groups."""

    kind = serializers.CharField(source="kind_label", read_only=True)
    group_count = serializers.SerializerMethodField()

    class Meta:
        model = GroupSet
        fields = [
            "id",
            "name",
            "description",
            "single_choice",
            "kind",
            "position",
            "group_count",
            "version",
            "created",
            "modified",
        ]
        read_only_fields = ["version", "created", "modified"]

    def get_group_count(self, obj) -> int:
        count = getattr(obj, "group_count", None)
        return obj.groups.count() if count is None else count


class GroupSerializer(serializers.ModelSerializer):
    """A group in a set, possibly under a parent group of the same set.

    `archived` changes through `POST .../archive/` and `.../restore/`;
    `was_used` turns true once the group has had members (it can then no
    longer be deleted).
    """

    group_set = serializers.PrimaryKeyRelatedField(queryset=GroupSet.objects.none())
    group_set_name = serializers.CharField(source="group_set.name", read_only=True)
    single_choice = serializers.BooleanField(source="group_set.single_choice", read_only=True)
    parent = serializers.PrimaryKeyRelatedField(
        queryset=Group.objects.none(), allow_null=True, required=False
    )
    full_name = serializers.CharField(read_only=True)
    member_count = serializers.SerializerMethodField()

    class Meta:
        model = Group
        fields = [
            "id",
            "name",
            "full_name",
            "description",
            "group_set",
            "group_set_name",
            "single_choice",
            "parent",
            "depth",
            "colour",
            "display_class",
            "position",
            "personal_customers",
            "reseller",
            "payment_group",
            "archived",
            "was_used",
            "member_count",
            "version",
            "created",
            "modified",
        ]
        read_only_fields = ["depth", "archived", "was_used", "version", "created", "modified"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        user = getattr(request, "user", None)
        self.fields["group_set"].queryset = GroupSet.objects.restrict(user)
        self.fields["parent"].queryset = Group.objects.restrict(user)

    def get_member_count(self, obj) -> int:
        """Members of this group itself (not of its subgroups)."""
        count = getattr(obj, "member_count", None)
        return obj.memberships.count() if count is None else count


class GroupSetViewSet(PatronViewSet):
    """Group sets. A set with groups cannot be deleted; turning a set
    single-choice is refused while a customer holds two of its groups."""

    model = GroupSet
    serializer_class = GroupSetSerializer
    filterset_class = GroupSetFilterSet

    def get_queryset(self):
        return super().get_queryset().annotate(group_count=Count("groups"))

    def perform_service_create(self, data):
        return services.group_set_create(actor=self.actor, data=data)

    def perform_service_update(self, instance, data, expected_version):
        return services.group_set_update(
            actor=self.actor, group_set=instance, data=data, expected_version=expected_version
        )

    def perform_service_delete(self, instance):
        services.group_set_delete(actor=self.actor, group_set=instance)


class GroupViewSet(PatronViewSet):
    """Groups, as trees inside their sets. Filters: `q`, `group_set`, `parent`,
    `within` (a group and everything below it), `payment_group`,
    `personal_customers`, `reseller`, `archived` (archived groups are left
    out unless `archived=archived` or `archived=all`)."""

    model = Group
    serializer_class = GroupSerializer
    filterset_class = GroupFilterSet
    select_related = ("group_set",)
    action_perms = {
        "archive": ["groups.change_group"],
        "restore": ["groups.change_group"],
    }

    def get_queryset(self):
        if self.action in {"archive", "restore"}:
            qs = Group.objects.restrict(self.request.user, "change")
        else:
            qs = super().get_queryset()
        return (
            qs.select_related("group_set")
            .annotate(member_count=Count("memberships"))
            .with_ancestor_names()
        )

    def perform_service_create(self, data):
        return services.group_create(actor=self.actor, data=data)

    def perform_service_update(self, instance, data, expected_version):
        return services.group_update(
            actor=self.actor, group=instance, data=data, expected_version=expected_version
        )

    def perform_service_delete(self, instance):
        services.group_delete(actor=self.actor, group=instance)

    def _set_archived(self, archived: bool):
        group = self.get_object()
        self.expected_version(group)
        group = services.group_archive(actor=self.actor, group=group, archived=archived)
        group = self.get_queryset().get(pk=group.pk)
        response = Response(self.get_serializer(group).data)
        response["ETag"] = group.etag
        return response

    @extend_schema(request=None, responses=GroupSerializer)
    @action(detail=True, methods=["post"])
    def archive(self, request, pk=None):
        """Archive the group: members keep it, it is no longer offered."""
        return self._set_archived(True)

    @extend_schema(request=None, responses=GroupSerializer)
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        """Bring an archived group back into use."""
        return self._set_archived(False)
