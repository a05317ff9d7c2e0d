"""Imports, exports and phone lists in the REST API.

- `POST /api/imports/` (multipart `file`) stores a file and queues its dry
  run; `GET /api/imports/<id>/` shows the state, row count and per-row
  errors; `POST /api/imports/<id>/apply/` starts the all-or-nothing import.
- `POST /api/exports/` starts an export of the customers the list
  parameters choose; `GET /api/exports/<job id>/download/` returns the file.
- `POST /api/phone-lists/preview/` and `/apply/` add customers to a group
  from phone numbers.
"""

from django.http import QueryDict
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from patron.core.actor import Actor
from patron.core.api.serializers import PatronModelSerializer, PatronSerializer
from patron.core.errors import ValidationError
from patron.imports.exporting import FORMATS
from patron.imports.jobs import EXPORT_JOB
from patron.imports.mapping import column_choices, initial_mapping
from patron.imports.models import CustomerImport
from patron.imports.phone_lists import phone_list_apply, phone_list_preview
from patron.imports.services import import_apply_start, import_options_set, import_upload
from patron.imports.views import (
    ExportExpired,
    export_download_response,
    rejected_rows_response,
    upload_removed_message,
)
from patron.jobs.api import JobSerializer, _accepted
from patron.jobs.models import Job
from patron.jobs.services import job_enqueue


class RowErrorSerializer(PatronSerializer):
    row = serializers.IntegerField()
    column = serializers.CharField()
    message = serializers.CharField()


class CustomerImportSerializer(PatronModelSerializer):
    errors = RowErrorSerializer(many=True, read_only=True)
    check_job = JobSerializer(read_only=True)
    apply_job = JobSerializer(read_only=True)

    class Meta:
        model = CustomerImport
        fields = [
            "id",
            "original_name",
            "file_format",
            "size",
            "state",
            "row_count",
            "error_count",
            "errors",
            "preview",
            "created_count",
            "updated_count",
            "unchanged_count",
            "rejected_count",
            "mode",
            "match_on",
            "on_error",
            "create_missing",
            "keep_invalid_phones",
            "headers",
            "mapping",
            "summary",
            "check_job",
            "apply_job",
            "created",
            "checked_at",
            "applied_at",
        ]
        read_only_fields = fields


class ImportOptionsSerializer(PatronSerializer):
    """How the file is applied (see docs/import-export.md); all optional."""

    mode = serializers.ChoiceField(choices=CustomerImport.Mode.choices, required=False)
    match_on = serializers.ChoiceField(choices=CustomerImport.MatchOn.choices, required=False)
    on_error = serializers.ChoiceField(choices=CustomerImport.OnError.choices, required=False)
    create_missing = serializers.BooleanField(required=False)
    keep_invalid_phones = serializers.BooleanField(required=False)


class ImportUploadSerializer(ImportOptionsSerializer):
    file = serializers.FileField()


class ImportChangeSerializer(ImportOptionsSerializer):
    mapping = serializers.DictField(
        child=serializers.CharField(allow_blank=True),
        required=False,
        help_text='Each header of the file → a column of Patron, or "" to ignore it.',
    )


class ColumnMappingSerializer(PatronSerializer):
    headers = serializers.ListField(child=serializers.CharField())
    mapping = serializers.DictField(help_text="Header → column (null: not mapped yet).")
    unknown_headers = serializers.ListField(child=serializers.CharField())
    columns = serializers.ListField(child=serializers.DictField())


class ExportRequestSerializer(PatronSerializer):
    """`filter`: the customer list's parameters (filters, `q`, repeated `ids`), as a
    query string or an object."""

    format = serializers.ChoiceField(choices=list(FORMATS), default="csv")
    filter = serializers.JSONField(required=False)


class PhoneListRequestSerializer(PatronSerializer):
    group = serializers.IntegerField()
    numbers = serializers.CharField(help_text="One phone number per line, with country code.")


class PhoneListResultSerializer(PatronSerializer):
    group = serializers.IntegerField()
    applied = serializers.BooleanField()
    matched = serializers.ListField(child=serializers.DictField())
    problems = serializers.ListField(child=serializers.DictField())
    to_add = serializers.ListField(child=serializers.DictField(), required=False)
    added = serializers.ListField(child=serializers.DictField(), required=False)
    already_in_group = serializers.ListField(child=serializers.DictField())
    conflicts = serializers.ListField(child=serializers.DictField())


class _ActorMixin:
    @property
    def actor(self) -> Actor:
        return Actor.from_request(self.request)


class CustomerImportViewSet(
    _ActorMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Customer files: upload (dry run as a job), the per-row errors, then apply."""

    serializer_class = CustomerImportSerializer
    permission_classes = [permissions.IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    lookup_value_regex = r"\d+"
    ordering = "-id"

    def get_queryset(self):
        return CustomerImport.objects.restrict(self.request.user).select_related(
            "check_job", "apply_job"
        )

    @extend_schema(request=ImportUploadSerializer, responses={201: CustomerImportSerializer})
    def create(self, request):
        """Upload a CSV or XLSX file; poll the import until `state` is no longer `checking`."""
        upload = request.FILES.get("file")
        options = {
            name: request.data.get(name)
            for name in ImportOptionsSerializer().fields
            if name in request.data
        }
        customer_import = import_upload(actor=self.actor, upload=upload, options=options)
        data = CustomerImportSerializer(customer_import).data
        response = Response(data, status=status.HTTP_201_CREATED)
        response["Location"] = f"/api/imports/{customer_import.pk}/"
        return response

    @extend_schema(request=None, responses={202: JobSerializer})
    @action(detail=True, methods=["post"])
    def apply(self, request, pk=None):
        """Import every row of a checked, error-free file in one transaction, as a job."""
        customer_import = self.get_object()
        removed = upload_removed_message(customer_import)
        if removed:
            raise ValidationError({"file": removed})
        job = import_apply_start(
            actor=self.actor,
            customer_import=customer_import,
            idempotency_key=request.headers.get("Idempotency-Key"),
        )
        return _accepted(job)

    @extend_schema(request=ImportChangeSerializer, responses={202: CustomerImportSerializer})
    @action(detail=True, methods=["post"])
    def options(self, request, pk=None):
        """Change the options and/or the column mapping, and check the file again."""
        customer_import = self.get_object()
        serializer = ImportChangeSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        mapping = data.pop("mapping", None)
        updated = import_options_set(
            actor=self.actor, customer_import=customer_import, options=data, mapping=mapping
        )
        return Response(CustomerImportSerializer(updated).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=ImportChangeSerializer, responses={200: ColumnMappingSerializer})
    @action(detail=True, methods=["get", "post"])
    def mapping(self, request, pk=None):
        """GET: the file's headers, how each is mapped, and the columns to choose from.
        POST `{"mapping": {header: column or ""}}`: save it (remembered for files with the
        same headers) and check the file again (202)."""
        customer_import = self.get_object()
        if request.method == "POST":
            return self.options(request, pk)
        summary = customer_import.summary or {}
        return Response(
            {
                "headers": customer_import.headers,
                "mapping": initial_mapping(customer_import.headers, customer_import.mapping),
                "unknown_headers": summary.get("unknown_headers", []),
                "columns": [{"value": v, "label": label} for v, label in column_choices()],
            }
        )

    @extend_schema(
        request=None,
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The rejected rows with a reason column."
            )
        },
    )
    @action(detail=True, methods=["get"])
    def rejected(self, request, pk=None):
        """The rows that were (or will be) left out, as CSV with a `reason` column."""
        return rejected_rows_response(self.get_object())


class ExportViewSet(_ActorMixin, viewsets.GenericViewSet):
    """Exports of customers to CSV or XLSX, run as jobs."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = ExportRequestSerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return Job.objects.restrict(self.request.user).filter(kind=EXPORT_JOB)

    @extend_schema(request=ExportRequestSerializer, responses={202: JobSerializer})
    def create(self, request):
        """Start an export; the job's `result_summary.file` is set once the file is ready."""
        serializer = ExportRequestSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        value = serializer.validated_data.get("filter") or {}
        if isinstance(value, QueryDict):
            value = value.urlencode()
        if not isinstance(value, str | dict):
            raise ValidationError({"filter": "Give the filter as a query string or an object."})
        job = job_enqueue(
            actor=self.actor,
            kind=EXPORT_JOB,
            params={"format": serializer.validated_data["format"], "filter": value},
            idempotency_key=request.headers.get("Idempotency-Key"),
        )
        return _accepted(job)

    @extend_schema(
        request=None,
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The CSV or XLSX file."
            ),
            410: OpenApiResponse(description="The export expired; run it again."),
        },
    )
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        """The exported file (404 until the job has succeeded; 410 once it has expired,
        after `PATRON_EXPORT_RETENTION_DAYS` days)."""
        try:
            return export_download_response(self.get_object())
        except ExportExpired as exc:
            return Response(
                {"detail": str(exc), "expired_on": exc.day.isoformat()},
                status=status.HTTP_410_GONE,
            )


class PhoneListViewSet(_ActorMixin, viewsets.GenericViewSet):
    """Add customers to a group from phone numbers: preview, then apply."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = PhoneListRequestSerializer

    def _run(self, service):
        serializer = PhoneListRequestSerializer(
            data=self.request.data, context={"request": self.request}
        )
        serializer.is_valid(raise_exception=True)
        result = service(
            actor=self.actor,
            group=serializer.validated_data["group"],
            text=serializer.validated_data["numbers"],
        )
        return Response(result.as_dict())

    @extend_schema(request=PhoneListRequestSerializer, responses=PhoneListResultSerializer)
    @action(detail=False, methods=["post"])
    def preview(self, request):
        """Which lines match which customers, and which are invalid, duplicate or unknown."""
        return self._run(phone_list_preview)

    @extend_schema(request=PhoneListRequestSerializer, responses=PhoneListResultSerializer)
    @action(detail=False, methods=["post"])
    def apply(self, request):
        """Add the matched customers to the group; conflicts are listed, not skipped silently."""
        return self._run(phone_list_apply)
