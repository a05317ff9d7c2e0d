"""The bulk actions in the REST API, under /api/jobs/ beside the jobs they start.

`POST /api/jobs/bulk/` starts a bulk action, `…/bulk/preview/` shows what it
would change, `…/bulk-tag/` takes the bulk tag request (`bulk_tag.py`) and
`/api/jobs/<id>/undo/` reverts a finished one. Each answers 202 with the job
(`patron.jobs.api.JobSerializer`); `patron/api.py` routes this viewset under
the `jobs` prefix.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from patron.bulk.actions import ACTIONS as BULK_ACTIONS
from patron.bulk.bulk_tag import bulk_tag_enqueue
from patron.bulk.engine import UNDO_KIND, bulk_params, bulk_preview, kind_for
from patron.core.actor import Actor
from patron.core.api.serializers import PatronSerializer
from patron.jobs import services
from patron.jobs.api import JobSerializer, accepted
from patron.jobs.models import Job


class BulkTagSerializer(PatronSerializer):
    """Either `customers` (ids) or `filter`: the customer list's filters, as a query
    string or an object."""

    tag = serializers.IntegerField()
    action = serializers.ChoiceField(choices=["add", "remove"], default="add")
    customers = serializers.ListField(child=serializers.IntegerField(), required=False)
    filter = serializers.JSONField(required=False)
    idempotency_key = serializers.CharField(required=False, max_length=200)


class BulkActionSerializer(PatronSerializer):
    """A bulk action and its customers: `ids`, or `q` (segment text) and/or `filter`.

    The action's own fields: `tag` (add_tag, remove_tag), `group` (set_group),
    `status`, `reason`, `effective_date` (change_status), `department`
    (assign_department, null to clear); archive and restore take none.
    """

    action = serializers.ChoiceField(choices=list(BULK_ACTIONS))
    ids = serializers.ListField(child=serializers.IntegerField(), required=False)
    q = serializers.CharField(required=False, allow_blank=True)
    filter = serializers.JSONField(required=False)
    tag = serializers.IntegerField(required=False)
    group = serializers.IntegerField(required=False)
    status = serializers.IntegerField(required=False)
    reason = serializers.CharField(required=False, allow_blank=True)
    effective_date = serializers.DateField(required=False)
    department = serializers.IntegerField(required=False, allow_null=True)
    idempotency_key = serializers.CharField(required=False, max_length=200)


class BulkPreviewSerializer(PatronSerializer):
    description = serializers.CharField()
    target = serializers.CharField()
    matched = serializers.IntegerField()
    will_change = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    failure_count = serializers.IntegerField()
    failures = serializers.ListField(child=serializers.DictField())
    sample = serializers.ListField(child=serializers.DictField())


def _bulk_request(request) -> tuple[str, dict, str | None]:
    serializer = BulkActionSerializer(data=request.data, context={"request": request})
    serializer.is_valid(raise_exception=True)
    data = dict(serializer.validated_data)
    key = data.pop("idempotency_key", None) or request.headers.get("Idempotency-Key")
    action_name = data.pop("action")
    if "effective_date" in data:
        data["effective_date"] = data["effective_date"].isoformat()
    return action_name, data, key


def _preview_data(preview) -> dict:
    return {
        "description": preview.description,
        "target": preview.target,
        "matched": preview.matched,
        "will_change": preview.will_change,
        "unchanged": preview.unchanged,
        "failure_count": preview.failure_count,
        # Set when a future date makes the job schedule the change rather than make it.
        "scheduled": preview.scheduled,
        "failures": [
            {"customer": customer.pk if customer else None, "message": message}
            for customer, message in preview.failures
        ],
        "sample": [
            {"customer": customer.pk, "name": str(customer), "before": before, "after": after}
            for customer, before, after in preview.sample
        ],
    }


class BulkViewSet(viewsets.GenericViewSet):
    """Bulk actions on customers, each run as a job: poll `GET /api/jobs/<id>/` until
    `state` is `succeeded`, `failed` or `cancelled`."""

    serializer_class = JobSerializer
    permission_classes = [permissions.IsAuthenticated]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        # Undo needs only to see the job: the undo job checks the customers permission.
        return Job.objects.restrict(self.request.user, "view")

    @property
    def actor(self) -> Actor:
        return Actor.from_request(self.request)

    @extend_schema(request=BulkTagSerializer, responses={202: JobSerializer})
    @action(detail=False, methods=["post"], url_path="bulk-tag")
    def bulk_tag(self, request):
        """Add or remove a tag on many customers as a job. `Idempotency-Key` header or field.

        The bulk action `add_tag` or `remove_tag` on the same customers: poll the job, and
        undo it like any bulk action (`POST /api/jobs/<id>/undo/`).
        """
        serializer = BulkTagSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        key = data.pop("idempotency_key", None) or request.headers.get("Idempotency-Key")
        job = bulk_tag_enqueue(actor=self.actor, params=data, idempotency_key=key)
        return accepted(job)

    @extend_schema(request=BulkActionSerializer, responses={202: JobSerializer})
    @action(detail=False, methods=["post"], url_path="bulk")
    def bulk(self, request):
        """Start a bulk action on many customers as a job (202). `Idempotency-Key` header or field.

        Poll the job; when it has `succeeded`, `POST /api/jobs/<id>/undo/` reverts it.
        """
        action_name, data, key = _bulk_request(request)
        params = bulk_params(self.actor, action_name, data)
        job = services.job_enqueue(
            actor=self.actor, kind=kind_for(action_name), params=params, idempotency_key=key
        )
        return accepted(job)

    @extend_schema(request=BulkActionSerializer, responses=BulkPreviewSerializer)
    @action(detail=False, methods=["post"], url_path="bulk/preview")
    def bulk_preview(self, request):
        """What a bulk action would change, without changing anything: counts and a sample."""
        if not request.user.has_perm("customers.change_customer"):
            raise PermissionDenied("Your role does not allow you to change customers.")
        action_name, data, _key = _bulk_request(request)
        params = bulk_params(self.actor, action_name, data)
        return Response(_preview_data(bulk_preview(self.actor, action_name, params)))

    @extend_schema(request=None, responses={202: JobSerializer})
    @action(detail=True, methods=["post"])
    def undo(self, request, pk=None):
        """Revert a finished bulk action as a new job; customers changed since are reported."""
        job = services.job_enqueue(
            actor=self.actor, kind=UNDO_KIND, params={"job": self.get_object().pk}
        )
        return accepted(job)
