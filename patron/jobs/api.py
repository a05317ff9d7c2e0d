"""Jobs in the REST API: list, detail, failures, cancel, and starting a bulk tag."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from patron.core.actor import Actor
from patron.core.api.serializers import PatronModelSerializer, PatronSerializer
from patron.jobs import services
from patron.jobs.bulk.actions import ACTIONS as BULK_ACTIONS
from patron.jobs.bulk.engine import UNDO_KIND, bulk_params, bulk_preview, kind_for
from patron.jobs.filters import JobFilterSet
from patron.jobs.models import Job, JobFailure
from patron.jobs.views import with_live_progress
from patron.jobs.waiting import job_waiting


class JobSerializer(PatronModelSerializer):
    """A job. `waiting_reason` is set while it is not moving: `waiting_for_worker` (queued
    with a broker, no worker took it), `waiting_its_turn` (queued behind other jobs in
    `patron serve`) or `worker_lost` (running, but its worker went silent; `retry_at` is
    when the sweep queues it again). `state_detail` says the same in words."""

    label = serializers.CharField(read_only=True)
    percent = serializers.IntegerField(read_only=True)
    state_detail = serializers.SerializerMethodField()
    waiting_reason = serializers.SerializerMethodField()
    retry_at = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "label",
            "state",
            "state_detail",
            "waiting_reason",
            "retry_at",
            "percent",
            "progress_done",
            "progress_total",
            "actor_label",
            "params",
            "result_summary",
            "error",
            "cancel_requested",
            "attempts",
            "idempotency_key",
            "worker",
            "created",
            "queued_at",
            "started_at",
            "heartbeat_at",
            "finished_at",
        ]
        read_only_fields = fields

    def to_representation(self, instance):
        instance = with_live_progress(instance)
        self._waiting = job_waiting(instance)
        return super().to_representation(instance)

    @extend_schema_field(OpenApiTypes.STR)
    def get_state_detail(self, job) -> str:
        return self._waiting.text if self._waiting else ""

    @extend_schema_field(OpenApiTypes.STR)
    def get_waiting_reason(self, job) -> str | None:
        return self._waiting.reason if self._waiting else None

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_retry_at(self, job):
        retry_at = self._waiting.retry_at if self._waiting else None
        return serializers.DateTimeField().to_representation(retry_at) if retry_at else None


class JobFailureSerializer(PatronModelSerializer):
    class Meta:
        model = JobFailure
        fields = ["id", "customer", "customer_label", "message"]


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


def _accepted(job) -> Response:
    response = Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
    response["Location"] = f"/api/jobs/{job.pk}/"
    return response


class JobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Background jobs. Everyone sees their own; Owners and Administrators see all.

    A bulk action answers 202 with the job; poll `GET /api/jobs/<id>/` until
    `state` is `succeeded`, `failed` or `cancelled`.
    """

    serializer_class = JobSerializer
    filterset_class = JobFilterSet
    permission_classes = [permissions.IsAuthenticated]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        # Undo needs only to see the job: the undo job checks the customers permission.
        action_name = "change" if self.action == "cancel" else "view"
        return Job.objects.restrict(self.request.user, action_name)

    @property
    def actor(self) -> Actor:
        return Actor.from_request(self.request)

    @extend_schema(request=None, responses=JobSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel a queued job, or ask a running one to stop (it then ends `cancelled`)."""
        job = services.job_cancel(actor=self.actor, job=self.get_object())
        return Response(JobSerializer(job).data)

    @extend_schema(responses=JobFailureSerializer(many=True))
    @action(detail=True, methods=["get"])
    def failures(self, request, pk=None):
        """The customers the job could not act on, and why."""
        job = self.get_object()
        failures = job.failures.visible_to(request.user)
        page = self.paginate_queryset(failures.order_by("-id"))
        return self.get_paginated_response(JobFailureSerializer(page, many=True).data)

    @extend_schema(request=BulkTagSerializer, responses={202: JobSerializer})
    @action(detail=False, methods=["post"], url_path="bulk-tag")
    def bulk_tag(self, request):
        """Add or remove a tag on many customers as a job. `Idempotency-Key` header or field."""
        serializer = BulkTagSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        key = data.pop("idempotency_key", None) or request.headers.get("Idempotency-Key")
        job = services.job_enqueue(
            actor=self.actor, kind="customers.bulk_tag", params=data, idempotency_key=key
        )
        return _accepted(job)

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
        return _accepted(job)

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
        return _accepted(job)
