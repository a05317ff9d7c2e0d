"""Statuses in the REST API: every field of the status page."""

from rest_framework import serializers

from patron.core.api.serializers import PatronModelSerializer
from patron.core.api.viewsets import PatronViewSet, ServiceWrites
from patron.statuses import services
from patron.statuses.filters import StatusFilterSet
from patron.statuses.models import Status


class ReasonsField(serializers.ListField):
    """The status's preset reasons as a list of texts; a write replaces them all."""

    def get_attribute(self, instance):
        return [r.text for r in instance.reasons.all()] if instance.pk else []


class StatusSerializer(PatronModelSerializer):
    """A status with every flag; `next_status` is a status id (or null)."""

    next_status = serializers.PrimaryKeyRelatedField(
        queryset=Status.objects.all(), allow_null=True, required=False
    )
    reasons = ReasonsField(
        child=serializers.CharField(max_length=200),
        required=False,
        help_text="The preset reasons offered when a customer changes to this status, in order.",
    )

    class Meta:
        model = Status
        fields = [
            "id",
            # Name and display
            "name",
            "short_name",
            "availability",
            "display_class",
            "position",
            # State and access
            "is_active",
            "is_suspended",
            "crm_only",
            "portal_login",
            "next_status",
            "next_status_days",
            "related_service_status",
            "related_number_status",
            "related_feature_status",
            "visible_in_backend",
            # Billing
            "billable",
            "send_correspondence",
            "override_invoice_message",
            "ignore_invoice_thresholds",
            "can_have_calls",
            "can_have_fixed_charges",
            "process_automatic_payments",
            # Final bill
            "final_invoice",
            "final_ignore_cutoff_date",
            "final_ignore_billable_status",
            "final_calls_ignore_cutoff_date",
            "final_calls_ignore_billable_status",
            # Update requirements
            "require_reason",
            "require_date",
            "reasons",
            "version",
            "created",
            "modified",
        ]
        read_only_fields = ["version", "created", "modified"]


class StatusViewSet(PatronViewSet):
    """Customer statuses. Names are unique in any letter case; a status that
    customers hold or once held cannot be deleted (make it Historical instead)."""

    model = Status
    serializer_class = StatusSerializer
    filterset_class = StatusFilterSet
    select_related = ("next_status",)
    prefetch_related = ("reasons",)

    writes = ServiceWrites(
        create=services.status_create,
        update=services.status_update,
        delete=services.status_delete,
        name="status",
    )
