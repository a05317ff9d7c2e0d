"""Group sets and groups in the REST API, over the same services and FilterSets."""

from django.db import transaction
from django.db.models import Count
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from patron.core.api.pagination import CursorPagination
from patron.core.api.serializers import PatronModelSerializer, PatronSerializer
from patron.core.api.viewsets import PatronViewSet, ServiceWrites
from patron.customers.models import Customer
from patron.groups import services
from patron.groups.dynamic import (
    dynamic_group_explain,
    dynamic_group_members,
    dynamic_group_snapshot,
)
from patron.groups.filters import GroupFilterSet, GroupSetFilterSet
from patron.groups.models import DynamicGroupChange, Group, GroupSet
from patron.groups.visibility import visible_member_count, visible_memberships
from patron.segments.language import Compiler, SegmentError
from patron.segments.models import Segment


class DynamicGroupChangeSerializer(PatronModelSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)

    class Meta:
        model = DynamicGroupChange
        fields = ["id", "customer", "customer_name", "kind", "at"]


class ExplainedTermSerializer(PatronSerializer):
    term = serializers.CharField()
    label = serializers.CharField()
    negated = serializers.BooleanField()
    matched = serializers.BooleanField()
    satisfied = serializers.BooleanField()
    detail = serializers.CharField()
    reason = serializers.CharField()


class GroupExplanationSerializer(PatronSerializer):
    customer = serializers.IntegerField()
    group = serializers.IntegerField()
    dynamic = serializers.BooleanField()
    member = serializers.BooleanField()
    static_membership = serializers.BooleanField()
    query = serializers.CharField(allow_null=True)
    terms = ExplainedTermSerializer(many=True)


class GroupSetSerializer(PatronModelSerializer):
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


class GroupSerializer(PatronModelSerializer):
    """A group in a set, possibly under a parent group of the same set.

    `archived` changes through `POST .../archive/` and `.../restore/`;
    `was_used` turns true once the group has had members (it can then no
    longer be deleted).
    """

    group_set = serializers.PrimaryKeyRelatedField(queryset=GroupSet.objects.all())
    group_set_name = serializers.CharField(source="group_set.name", read_only=True)
    single_choice = serializers.BooleanField(source="group_set.single_choice", read_only=True)
    parent = serializers.PrimaryKeyRelatedField(
        queryset=Group.objects.all(), allow_null=True, required=False
    )
    full_name = serializers.CharField(read_only=True)
    member_count = serializers.SerializerMethodField()
    segment = serializers.PrimaryKeyRelatedField(
        queryset=Segment.objects.all(), allow_null=True, required=False
    )
    is_dynamic = serializers.BooleanField(read_only=True)

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
            "apply_member_credits",
            "segment",
            "is_dynamic",
            "archived",
            "was_used",
            "member_count",
            "version",
            "created",
            "modified",
        ]
        read_only_fields = ["depth", "archived", "was_used", "version", "created", "modified"]

    def get_member_count(self, obj) -> int | None:
        """Members of this group itself (not of its subgroups); for a dynamic group, the
        customers its segment selects now that you may see (null if the segment is broken)."""
        if obj.segment_id is not None:
            request = self.context.get("request")
            # One compiler for the whole response: names read once for every group.
            compiler = self.context.setdefault("system_compiler", Compiler(None))
            try:
                members = dynamic_group_members(
                    obj, user=getattr(request, "user", None), compiler=compiler
                )
                return members.count()
            except SegmentError:
                return None
        count = getattr(obj, "member_count", None)
        if count is None:
            request = self.context.get("request")
            return visible_memberships(obj, getattr(request, "user", None)).count()
        return count


class GroupSetViewSet(PatronViewSet):
    """Group sets. A set with groups cannot be deleted; turning a set
    single-choice is refused while a customer holds two of its groups."""

    model = GroupSet
    serializer_class = GroupSetSerializer
    filterset_class = GroupSetFilterSet

    def get_queryset(self):
        return super().get_queryset().annotate(group_count=Count("groups"))

    writes = ServiceWrites(
        create=services.group_set_create,
        update=services.group_set_update,
        delete=services.group_set_delete,
        name="group_set",
    )


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
        "history": ["groups.view_group", "customers.view_customer"],
        "explain": ["groups.view_group", "customers.view_customer"],
        # A snapshot writes a row and an event: it needs the groups write permission.
        "snapshot": ["groups.view_group", "customers.view_customer", "groups.change_group"],
    }

    def get_queryset(self):
        if self.action in {"archive", "restore", "snapshot"}:
            qs = Group.objects.restrict(self.request.user, "change")
        else:
            qs = super().get_queryset()
        return (
            qs.select_related("group_set")
            .annotate(member_count=visible_member_count(self.request.user))
            .with_ancestor_names()
        )

    writes = ServiceWrites(
        create=services.group_create,
        update=services.group_update,
        delete=services.group_delete,
        name="group",
    )

    @transaction.atomic
    def _set_archived(self, archived: bool):
        group = self.locked_for_write(self.get_object())
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

    @extend_schema(responses=DynamicGroupChangeSerializer(many=True))
    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        """Customers entering and leaving this dynamic group, newest first, as the
        scheduler saw them (only customers you may see)."""
        group = self.get_object()
        changes = (
            DynamicGroupChange.objects.filter(group=group)
            .filter(customer__in=Customer.objects.restrict(request.user, "view").values("pk"))
            .select_related("customer")
        )
        paginator = CursorPagination()
        paginator.ordering = ("-at", "-id")
        page = paginator.paginate_queryset(changes, request, view=self)
        return paginator.get_paginated_response(DynamicGroupChangeSerializer(page, many=True).data)

    @extend_schema(
        request=None,
        responses=inline_serializer(
            "DynamicGroupSnapshot",
            {"count": serializers.IntegerField(), "customers": serializers.ListField()},
        ),
    )
    @action(detail=True, methods=["post"])
    def snapshot(self, request, pk=None):
        """Freeze and record the members now (the customers you may see), e.g. before
        acting on them; a static group answers its members without a record. Needs
        the permission to change groups; a stale `If-Match` gets 412."""
        group = self.get_object()
        self.expected_version(group)
        ids = dynamic_group_snapshot(group, self.actor)
        return Response({"count": len(ids), "customers": ids})

    @extend_schema(responses=GroupExplanationSerializer)
    @action(detail=True, methods=["get"], url_path=r"explain/(?P<customer_id>\d+)")
    def explain(self, request, pk=None, customer_id=None):
        """Term by term, why the customer is in this dynamic group or not (SEG-5)."""
        group = self.get_object()
        customer = Customer.objects.restrict(request.user, "view").filter(pk=customer_id).first()
        if customer is None:
            raise NotFound("Not found.")
        try:
            result = dynamic_group_explain(group, customer, user=request.user)
        except SegmentError as exc:
            return Response(exc.as_dict(), status=status.HTTP_400_BAD_REQUEST)
        return Response(result)
