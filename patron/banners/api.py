"""Alert banner rules in the REST API."""

from rest_framework import serializers

from patron.banners import services
from patron.banners.filters import BannerRuleFilterSet
from patron.banners.models import BannerRule
from patron.classes.models import CustomerClass
from patron.core.api.serializers import PatronModelSerializer
from patron.core.api.viewsets import PatronViewSet, ServiceWrites
from patron.customfields.models import CustomField
from patron.groups.models import Group
from patron.segments.models import Segment
from patron.statuses.models import Status
from patron.tags.models import Tag


class BannerRuleSerializer(PatronModelSerializer):
    """Give exactly one of `tag`, `group`, `status`, `customer_class`,
    `custom_field` (with `custom_value`) or `segment` (a saved segment's id);
    on update, giving one clears the others."""

    tag = serializers.PrimaryKeyRelatedField(
        queryset=Tag.objects.all(), allow_null=True, required=False
    )
    group = serializers.PrimaryKeyRelatedField(
        queryset=Group.objects.all(), allow_null=True, required=False
    )
    status = serializers.PrimaryKeyRelatedField(
        queryset=Status.objects.all(), allow_null=True, required=False
    )
    customer_class = serializers.PrimaryKeyRelatedField(
        queryset=CustomerClass.objects.all(), allow_null=True, required=False
    )
    custom_field = serializers.PrimaryKeyRelatedField(
        queryset=CustomField.objects.all(), allow_null=True, required=False
    )
    segment = serializers.PrimaryKeyRelatedField(
        queryset=Segment.objects.all(), allow_null=True, required=False
    )
    condition = serializers.CharField(source="condition_label", read_only=True)

    class Meta:
        model = BannerRule
        fields = [
            "id",
            "name",
            "message",
            "severity",
            "active",
            "position",
            "tag",
            "group",
            "status",
            "customer_class",
            "custom_field",
            "custom_value",
            "segment",
            "condition",
            "version",
            "created",
            "modified",
        ]
        read_only_fields = ["version", "created", "modified"]


class BannerRuleViewSet(PatronViewSet):
    """Alert banner rules: a message shown on matching customers' overviews,
    most severe first."""

    model = BannerRule
    serializer_class = BannerRuleSerializer
    filterset_class = BannerRuleFilterSet
    select_related = ("tag", "group", "status", "customer_class", "custom_field", "segment")

    writes = ServiceWrites(
        create=services.banner_rule_create,
        update=services.banner_rule_update,
        delete=services.banner_rule_delete,
        name="rule",
    )
