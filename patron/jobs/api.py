"""Jobs in the REST API: list, detail, failures and cancel.

The features that start jobs answer with `accepted(job)`: 202, the job, and its
`Location` to poll (the bulk actions in `patron/bulk/api.py`, imports, exports).
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from patron.core.actor import Actor
from patron.core.api.serializers import PatronModelSerializer
from patron.jobs import services
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


def accepted(job) -> Response:
    """202 with the job just started, and where to poll it."""
    response = Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
    response["Location"] = f"/api/jobs/{job.pk}/"
    return response


_accepted = accepted  # the name patron/imports/api.py imports


class JobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Background jobs. Everyone sees their own; Owners and Administrators see all.

    An endpoint that starts a job answers 202 with it; poll `GET /api/jobs/<id>/`
    until `state` is `succeeded`, `failed` or `cancelled`.
    """

    serializer_class = JobSerializer
    filterset_class = JobFilterSet
    permission_classes = [permissions.IsAuthenticated]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
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
