"""Billing in the REST API: usage charges in, billing runs, invoices and credit notes out.

- `/api/usage-charges/`: GET lists the usage charges of the customers the user
  sees (`customer`, `date_after`, `date_before`, `billed`); POST adds one
  charge (an object) or many (a list of up to 50,000), all or none, through
  `usage_charges_add`: 201 `{"created", "duplicates", "ids"}`, or 400
  `{"rows": [{"row": 2, "customer": "..."}]}` naming every bad row.
- `/api/billing-runs/`: GET lists the runs; POST `{"billing_date", "cutoff_date",
  "preview"}` starts the `billing.run` (or `billing.preview`) job: 202 with the job
  and its `url` to poll. `Idempotency-Key` makes a retried request return the same job.
- `/api/invoices/`: invoices and credit notes of the customers the user sees
  (`InvoiceFilterSet`); `{id}/pdf/` the PDF, `{id}/credit/` issues a credit note.
  An issued invoice is never changed or deleted: PUT, PATCH and DELETE are 405.
"""

from __future__ import annotations

from django.db.models import Count, Prefetch, Sum
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_field,
)
from rest_framework import mixins, renderers, serializers, viewsets
from rest_framework import status as http_status
from rest_framework.decorators import action
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.response import Response

from patron.billing import services
from patron.billing.documents import invoice_pdf
from patron.billing.filters import InvoiceFilterSet, UsageChargeFilterSet
from patron.billing.models import BillingRun, Invoice, InvoiceLine, UsageCharge
from patron.core.actor import Actor
from patron.core.api.serializers import PatronModelSerializer, PatronSerializer
from patron.core.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from patron.core.money import to_money
from patron.core.pdf import PdfUnavailable, pdf_response
from patron.jobs.api import JobSerializer
from patron.jobs.services import job_enqueue

MAX_USAGE_ROWS = 50_000
IMMUTABLE = (
    "An issued invoice is never changed or deleted; invoices are corrected by credit notes "
    "(POST /api/invoices/{id}/credit/)."
)


@extend_schema_field(OpenApiTypes.DECIMAL)
class MoneyField(serializers.Field):
    """A read-only amount as a decimal string with the currency's decimals ("54.00")."""

    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value):
        return None if value is None else f"{to_money(value):f}"


class ApiMixin:
    @property
    def actor(self) -> Actor:
        return Actor.from_request(self.request)


# --- Usage charges -------------------------------------------------------------------


class UsageChargeSerializer(PatronModelSerializer):
    """A usage charge; `billed` once a run has put it on an invoice (`invoice`)."""

    amount = MoneyField()
    service_code = serializers.CharField(source="service.code", read_only=True, default=None)
    billed = serializers.SerializerMethodField()
    invoice = serializers.SerializerMethodField()

    class Meta:
        model = UsageCharge
        fields = [
            "id",
            "customer",
            "service",
            "service_code",
            "date",
            "description",
            "quantity",
            "amount",
            "reference",
            "billed",
            "invoice",
            "created",
        ]
        read_only_fields = fields

    def _line(self, charge):
        try:
            return charge.invoice_line
        except InvoiceLine.DoesNotExist:
            return None

    def get_billed(self, charge) -> bool:
        return self._line(charge) is not None

    @extend_schema_field(OpenApiTypes.INT)
    def get_invoice(self, charge) -> int | None:
        line = self._line(charge)
        return line.invoice_id if line is not None else None


class UsageChargeRowSerializer(PatronSerializer):
    """One usage charge to add (for the schema: `usage_charges_add` checks every row and
    names each bad one). The customer is `customer` (its id) or `account_number`."""

    customer = serializers.IntegerField(required=False)
    account_number = serializers.CharField(required=False)
    service = serializers.CharField(
        required=False, help_text="A usage-rated service's code or id, for its tax rate."
    )
    date = serializers.DateField()
    description = serializers.CharField()
    quantity = serializers.DecimalField(max_digits=14, decimal_places=4, required=False)
    amount = serializers.CharField(help_text="Decimal string; no more decimals than the currency.")
    reference = serializers.CharField(
        required=False,
        help_text="Your record's id: a charge whose reference the customer has "
        "already is a duplicate, counted and not added again.",
    )


class UsageAddedSerializer(PatronSerializer):
    created = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    ids = serializers.ListField(child=serializers.IntegerField())


class UsageRowErrorsSerializer(PatronSerializer):
    rows = serializers.ListField(
        child=serializers.DictField(),
        help_text='Each bad row: {"row": its number from 1, "<field>": "what is wrong", ...}.',
    )


USAGE_REQUEST = PolymorphicProxySerializer(
    component_name="UsageChargesIn",
    serializers=[UsageChargeRowSerializer, UsageChargeRowSerializer(many=True)],
    resource_type_field_name=None,
    many=False,
)


class UsageChargeViewSet(
    ApiMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Usage charges waiting for (or billed by) the billing run, of the customers you see.

    POST one charge (an object) or many (a list, up to 50,000): every row is added or
    none, and every bad row is named.
    """

    serializer_class = UsageChargeSerializer
    filterset_class = UsageChargeFilterSet
    lookup_value_regex = r"\d+"
    # The service says who may add usage, in its own words (403 with its message).
    action_perms = {"create": []}

    def get_queryset(self):
        return (
            UsageCharge.objects.restrict(self.request.user, "view")
            .select_related("service", "invoice_line")
            .order_by("-id")
        )

    @extend_schema(
        request=USAGE_REQUEST,
        responses={
            201: UsageAddedSerializer,
            400: OpenApiResponse(UsageRowErrorsSerializer, description="Nothing was added."),
        },
    )
    def create(self, request, *args, **kwargs):
        """Add usage charges: all or none; duplicates (a reference the customer has) skipped."""
        body = request.data
        rows = [body] if isinstance(body, dict) else body
        if not isinstance(rows, list):
            raise ApiValidationError(
                {"rows": ["Send a usage charge (a JSON object) or a list of them."]}
            )
        if len(rows) > MAX_USAGE_ROWS:
            raise ApiValidationError(
                {"rows": [f"Send at most {MAX_USAGE_ROWS:,} usage charges at once."]}
            )
        bad = [
            {"row": number, "value": "Each usage charge is a JSON object."}
            for number, row in enumerate(rows, start=1)
            if not isinstance(row, dict)
        ]
        if bad:
            return Response({"rows": bad}, status=http_status.HTTP_400_BAD_REQUEST)
        try:
            result = services.usage_charges_add(actor=self.actor, rows=rows)
        except services.UsageRowsError as exc:
            return Response({"rows": exc.rows}, status=http_status.HTTP_400_BAD_REQUEST)
        return Response(
            {
                "created": len(result.created),
                "duplicates": result.duplicates,
                "ids": [charge.pk for charge in result.created],
            },
            status=http_status.HTTP_201_CREATED,
        )


# --- Billing runs --------------------------------------------------------------------


class BillingRunSerializer(PatronModelSerializer):
    """A billing date's run: its period, state, totals and summary, and the job that ran it."""

    net_total = MoneyField()
    tax_total = MoneyField()
    gross_total = MoneyField()
    job_url = serializers.SerializerMethodField()

    class Meta:
        model = BillingRun
        fields = [
            "id",
            "billing_date",
            "period_start",
            "period_end",
            "cutoff_date",
            "state",
            "job",
            "job_url",
            "started_by",
            "started_by_label",
            "finished_at",
            "customers_billed",
            "invoice_count",
            "net_total",
            "tax_total",
            "gross_total",
            "summary",
            "created",
            "modified",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_job_url(self, run) -> str | None:
        return _job_url(self.context.get("request"), run.job_id) if run.job_id else None

    def to_representation(self, run):
        data = super().to_representation(run)
        user = getattr(self.context.get("request"), "user", None)
        if getattr(user, "has_customer_restriction", False):
            # Staff restricted to groups see the run over their own customers only, as
            # on the run's page: never the installation's takings.
            totals = (
                Invoice.objects.restrict(user)
                .filter(run=run)
                .aggregate(n=Count("id"), net=Sum("net"), tax=Sum("tax"), gross=Sum("gross"))
            )
            data.update(
                customers_billed=totals["n"],
                invoice_count=totals["n"],
                net_total=str(to_money(totals["net"] or 0)),
                tax_total=str(to_money(totals["tax"] or 0)),
                gross_total=str(to_money(totals["gross"] or 0)),
                summary={"restricted": True, "invoices": totals["n"]},
            )
        return data


def _job_url(request, job_id: int) -> str:
    path = reverse("job-detail", args=[job_id])
    return request.build_absolute_uri(path) if request is not None else path


class BillingRunStartSerializer(PatronSerializer):
    billing_date = serializers.DateField(help_text="The first day of the period billed (1-28).")
    cutoff_date = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Usage and one-off items up to this day; the day before the billing date "
        "unless given.",
    )
    preview = serializers.BooleanField(
        required=False,
        default=False,
        help_text="true: a dry run (billing.preview) that reports and changes nothing.",
    )


class BillingJobSerializer(JobSerializer):
    """The job started, and `url`, where to poll it until it has finished."""

    url = serializers.SerializerMethodField()
    # Job's states are documented once, on Job; here as text (one enum, one component).
    state = serializers.CharField(
        read_only=True, help_text="queued, running, succeeded, failed or cancelled"
    )

    class Meta(JobSerializer.Meta):
        fields = [*JobSerializer.Meta.fields, "url"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, job) -> str:
        return _job_url(self.context.get("request"), job.pk)


class BillingRunViewSet(
    ApiMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Billing runs, one per billing date. POST starts one as a job (202): poll its `url`.

    `preview: true` starts a dry run that reports what the run would do and changes
    nothing. Send an `Idempotency-Key` header so a retried request returns the same job.
    """

    serializer_class = BillingRunSerializer
    filterset_class = None
    lookup_value_regex = r"\d+"
    # job_enqueue and the job type's check say who may run billing, in their own words.
    action_perms = {"create": []}

    def get_queryset(self):
        return BillingRun.objects.restrict(self.request.user, "view")

    @extend_schema(request=BillingRunStartSerializer, responses={202: BillingJobSerializer})
    def create(self, request, *args, **kwargs):
        """Start the billing run (or its preview) for a billing date as a job."""
        body = BillingRunStartSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        data = body.validated_data
        params = {"billing_date": data["billing_date"].isoformat()}
        if data.get("cutoff_date"):
            params["cutoff_date"] = data["cutoff_date"].isoformat()
        job = job_enqueue(
            actor=self.actor,
            kind="billing.preview" if data["preview"] else "billing.run",
            params=params,
            idempotency_key=request.headers.get("Idempotency-Key"),
        )
        response = Response(
            BillingJobSerializer(job, context={"request": request}).data,
            status=http_status.HTTP_202_ACCEPTED,
        )
        response["Location"] = reverse("job-detail", args=[job.pk])
        return response


# --- Invoices and credit notes -------------------------------------------------------


class InvoiceLineSerializer(PatronModelSerializer):
    unit_price = MoneyField()
    net = MoneyField()
    tax = MoneyField()
    gross = MoneyField()

    class Meta:
        model = InvoiceLine
        fields = [
            "id",
            "kind",
            "description",
            "period_start",
            "period_end",
            "quantity",
            "unit_price",
            "discount_percent",
            "tax_rate",
            "net",
            "tax",
            "gross",
            "service",
            "customer_service",
            "usage_charge",
            "credits",
        ]
        read_only_fields = fields


class InvoiceSerializer(PatronModelSerializer):
    """An invoice or credit note. Amounts are decimal strings; `payment_state` is `open`,
    `part_paid` or `paid` (credit notes: `issued`); `corrects` is the number of the
    invoice a credit note corrects, `credit_notes` those of the notes correcting it."""

    customer_name = serializers.CharField(source="customer.name", read_only=True)
    account_number = serializers.CharField(source="customer.account_number", read_only=True)
    net = MoneyField()
    tax = MoneyField()
    gross = MoneyField()
    amount_paid = MoneyField()
    outstanding = MoneyField()
    payment_state = serializers.ChoiceField(
        choices=["issued", "open", "part_paid", "paid"], read_only=True
    )
    corrects = serializers.CharField(source="corrects.number", read_only=True, default=None)
    corrects_id = serializers.IntegerField(read_only=True, allow_null=True)
    credit_notes = serializers.SerializerMethodField()
    lines = InvoiceLineSerializer(many=True, read_only=True)

    class Meta:
        model = Invoice
        fields = [
            "id",
            "number",
            "kind",
            "customer",
            "customer_name",
            "account_number",
            "run",
            "issue_date",
            "due_date",
            "period_start",
            "period_end",
            "net",
            "tax",
            "gross",
            "amount_paid",
            "outstanding",
            "payment_state",
            "is_final",
            "message",
            "corrects",
            "corrects_id",
            "reason",
            "imported",
            "issued_at",
            "issued_by_label",
            "credit_notes",
            "lines",
        ]
        read_only_fields = fields

    def get_credit_notes(self, invoice) -> list[str]:
        """The numbers of the credit notes that correct this invoice."""
        return [note.number for note in invoice.credit_notes.all()]


class CreditSerializer(PatronSerializer):
    reason = serializers.CharField(
        allow_blank=True, help_text="Why the invoice is credited; it is printed on the note."
    )
    lines = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        allow_empty=True,
        help_text="Ids of the invoice's lines to credit; all of them when left out.",
    )


class PdfRenderer(renderers.BaseRenderer):
    """Lets a client ask for `Accept: application/pdf`; errors still answer in JSON."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, bytes):
            return data
        return renderers.JSONRenderer().render(data)


class InvoiceViewSet(
    ApiMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Invoices and credit notes of the customers you see (another customer's is a 404).

    Never changed or deleted: a credit note (`POST /api/invoices/{id}/credit/`) corrects
    an invoice, so PUT, PATCH and DELETE answer 405.
    """

    serializer_class = InvoiceSerializer
    filterset_class = InvoiceFilterSet
    lookup_value_regex = r"\d+"
    # invoice_credit says who may issue credit notes, in its own words.
    action_perms = {"credit": []}

    def get_queryset(self):
        notes = Invoice.objects.order_by("id").only("id", "number", "corrects_id")
        return (
            Invoice.objects.restrict(self.request.user, "view")
            .select_related("customer", "corrects")
            .prefetch_related(
                Prefetch("lines", queryset=InvoiceLine.objects.order_by("id")),
                Prefetch("credit_notes", queryset=notes),
            )
        )

    def check_permissions(self, request):
        # Nothing edits an issued invoice: 405 for every signed-in user, whatever the role.
        if (
            request.method in {"PUT", "PATCH", "DELETE"}
            and request.user
            and request.user.is_authenticated
        ):
            raise MethodNotAllowed(request.method, detail=IMMUTABLE)
        super().check_permissions(request)

    @extend_schema(
        responses={
            (200, "application/pdf"): OpenApiTypes.BINARY,
            503: OpenApiResponse(description="PDFs cannot be made on this machine."),
        }
    )
    @action(detail=True, methods=["get"], renderer_classes=[renderers.JSONRenderer, PdfRenderer])
    def pdf(self, request, pk=None):
        """The invoice or credit note as a PDF download, `<number>.pdf`."""
        invoice = self.get_object()
        try:
            data = invoice_pdf(invoice)
        except PdfUnavailable as exc:
            request.accepted_renderer = renderers.JSONRenderer()
            request.accepted_media_type = "application/json"
            return Response({"detail": str(exc)}, status=http_status.HTTP_503_SERVICE_UNAVAILABLE)
        return pdf_response(data, f"{invoice.number}.pdf", inline=False)

    @extend_schema(
        request=CreditSerializer,
        responses={201: InvoiceSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @action(detail=True, methods=["post"])
    def credit(self, request, pk=None):
        """Issue a credit note for the invoice (all its lines, or `lines`), with a reason."""
        invoice = self.get_object()

        def work():
            body = CreditSerializer(data=request.data, context={"request": request})
            body.is_valid(raise_exception=True)
            note = services.invoice_credit(
                actor=self.actor,
                invoice=invoice,
                reason=body.validated_data["reason"],
                line_ids=body.validated_data.get("lines") or None,
            )
            note = self.get_queryset().get(pk=note.pk)
            return Response(
                InvoiceSerializer(note, context={"request": request}).data,
                status=http_status.HTTP_201_CREATED,
            )

        return idempotent(request, work)
