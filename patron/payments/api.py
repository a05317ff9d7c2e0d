"""Payments in the REST API (docs/payments.md).

- `/api/payments/`: GET lists the payments, refunds and reversals the user sees
  (`customer`, `group`, `kind`, `method`, `received_after`, `received_before`); POST
  records a payment from a customer (`customer`) or a payment group (`group`),
  allocated oldest first (or to `invoices`): 201 with its allocations.
- `/api/payments/{id}/refund/` (`amount`, `reason`) and `/api/payments/{id}/reverse/`
  (`reason`): new records, never edits.
- `/api/groups/{group_id}/payments/`: GET the group's statement, POST a group payment.

Every POST takes an `Idempotency-Key` header (`patron/core/idempotency.py`).
"""

from __future__ import annotations

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework import status as http_status
from rest_framework.decorators import action
from rest_framework.response import Response

from patron.billing.api import MoneyField
from patron.billing.models import Invoice
from patron.core.actor import Actor
from patron.core.api.serializers import PatronModelSerializer, PatronSerializer
from patron.core.errors import ValidationError
from patron.core.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from patron.customers.models import Customer
from patron.groups.models import Group
from patron.payments import services
from patron.payments.models import Payment, PaymentAllocation, PaymentMethod

IDEMPOTENCY_RESPONSES = {
    422: OpenApiResponse(description="The Idempotency-Key was used for a different request."),
}


class AllocationSerializer(PatronModelSerializer):
    invoice_number = serializers.CharField(source="invoice.number", read_only=True)
    amount = MoneyField()

    class Meta:
        model = PaymentAllocation
        fields = ["id", "invoice", "invoice_number", "customer", "amount", "by_billing_run"]
        read_only_fields = fields


class PaymentSerializer(PatronModelSerializer):
    """A payment (kind `payment`), a refund or a reversal (`reverses` the payment).
    `unallocated` is the payment's credit still held: on the customer's ledger already
    for a customer's payment, on the group for a group payment."""

    amount = MoneyField()
    unallocated = MoneyField()
    method_name = serializers.CharField(source="method.name", read_only=True)
    allocations = AllocationSerializer(many=True, read_only=True)

    class Meta:
        model = Payment
        fields = [
            "id",
            "kind",
            "customer",
            "group",
            "method",
            "method_name",
            "amount",
            "unallocated",
            "received_date",
            "reference",
            "note",
            "reverses",
            "actor_label",
            "created",
            "allocations",
        ]
        read_only_fields = fields


class PaymentInSerializer(PatronSerializer):
    customer = serializers.IntegerField(required=False, help_text="The paying customer's id.")
    group = serializers.IntegerField(required=False, help_text="A payment group's id.")
    amount = serializers.CharField(help_text="Decimal string > 0, the currency's decimals.")
    method = serializers.CharField(help_text="A payment method's name or id.")
    received_date = serializers.DateField(required=False, allow_null=True, default=None)
    reference = serializers.CharField(required=False, allow_blank=True, default="")
    note = serializers.CharField(required=False, allow_blank=True, default="")
    invoices = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        allow_null=True,
        default=None,
        help_text="Pay these invoices (oldest first) instead of all open ones.",
    )


class GroupPaymentInSerializer(PatronSerializer):
    amount = serializers.CharField(help_text="Decimal string > 0, the currency's decimals.")
    method = serializers.CharField(help_text="A payment method's name or id.")
    received_date = serializers.DateField(required=False, allow_null=True, default=None)
    reference = serializers.CharField(required=False, allow_blank=True, default="")
    note = serializers.CharField(required=False, allow_blank=True, default="")


class RefundSerializer(PatronSerializer):
    amount = serializers.CharField(help_text="At most the payment less earlier refunds.")
    reason = serializers.CharField(allow_blank=True)


class ReverseSerializer(PatronSerializer):
    reason = serializers.CharField(allow_blank=True, help_text="Why (a bounced cheque...).")


def method_of(value) -> PaymentMethod:
    text = str(value).strip()
    if text.isdigit():
        found = PaymentMethod.objects.filter(pk=int(text)).first()
    else:
        found = PaymentMethod.objects.filter(name__iexact=text).first()
    if found is None:
        raise ValidationError({"method": f"“{text}” is not a payment method."})
    return found


def _queryset(user):
    return (
        Payment.objects.restrict(user, "view")
        .select_related("method")
        .prefetch_related(
            Prefetch(
                "allocations",
                queryset=PaymentAllocation.objects.select_related("invoice").order_by("id"),
            )
        )
    )


LIST_PARAMETERS = [
    OpenApiParameter("customer", int, description="The payer or a customer allocated to."),
    OpenApiParameter("group", int, description="Payments of this payment group."),
    OpenApiParameter("kind", str, enum=Payment.Kind.values),
    OpenApiParameter("method", str, description="A method's name or id."),
    OpenApiParameter("received_after", OpenApiTypes.DATE),
    OpenApiParameter("received_before", OpenApiTypes.DATE),
]


class PaymentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Payments, refunds and reversals of the customers and groups you see.

    Never edited or deleted: a refund or a reversal is a new record (PUT, PATCH and
    DELETE are not offered). Send an `Idempotency-Key` with every POST.
    """

    serializer_class = PaymentSerializer
    filter_backends = []
    lookup_value_regex = r"\d+"
    # The services say who may record, refund and reverse, in their own words.
    action_perms = {"create": [], "refund": [], "reverse": []}

    def get_queryset(self):
        qs = _queryset(self.request.user).order_by("-received_date", "-id")
        params = self.request.query_params
        if self.action != "list":
            return qs
        try:
            if params.get("customer"):
                customer = int(params["customer"])
                qs = qs.filter(customer_id=customer) | qs.filter(allocations__customer_id=customer)
                qs = qs.distinct()
            if params.get("group"):
                qs = qs.filter(group_id=int(params["group"]))
        except ValueError:
            raise ValidationError({"customer": "Give ids as whole numbers."}) from None
        if params.get("kind"):
            qs = qs.filter(kind=params["kind"])
        if params.get("method"):
            qs = qs.filter(method=method_of(params["method"]))
        if params.get("received_after"):
            qs = qs.filter(received_date__gte=params["received_after"])
        if params.get("received_before"):
            qs = qs.filter(received_date__lte=params["received_before"])
        return qs

    @extend_schema(parameters=LIST_PARAMETERS)
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @property
    def actor(self) -> Actor:
        return Actor.from_request(self.request)

    def _respond(self, payment, status=http_status.HTTP_201_CREATED):
        payment = _queryset(self.request.user).get(pk=payment.pk)
        return Response(PaymentSerializer(payment, context={"request": self.request}).data, status)

    @extend_schema(
        request=PaymentInSerializer,
        responses={201: PaymentSerializer, **IDEMPOTENCY_RESPONSES},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    def create(self, request, *args, **kwargs):
        """Record a payment from a customer or a payment group, allocated oldest first."""

        def work():
            body = PaymentInSerializer(data=request.data, context={"request": request})
            body.is_valid(raise_exception=True)
            data = dict(body.validated_data)
            customer = group = None
            if data.get("customer") is not None:
                visible = Customer.objects.restrict(request.user, "view")
                customer = visible.filter(pk=data["customer"]).first()
                if customer is None:
                    raise ValidationError({"customer": "No such customer."})
            if data.get("group") is not None:
                group = Group.objects.restrict(request.user, "view").filter(pk=data["group"])
                group = group.first()
                if group is None:
                    raise ValidationError({"group": "No such group."})
            payment = services.payment_record(
                actor=self.actor,
                customer=customer,
                group=group,
                amount=data["amount"],
                method=method_of(data["method"]),
                received_date=data["received_date"],
                reference=data["reference"],
                note=data["note"],
                invoices=data["invoices"],
            )
            return self._respond(payment)

        return idempotent(request, work)

    @extend_schema(
        request=RefundSerializer,
        responses={201: PaymentSerializer, **IDEMPOTENCY_RESPONSES},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @action(detail=True, methods=["post"])
    def refund(self, request, pk=None):
        """Refund part or all of a payment: a new refund record, never an edit."""
        payment = self.get_object()

        def work():
            body = RefundSerializer(data=request.data, context={"request": request})
            body.is_valid(raise_exception=True)
            refund = services.payment_refund(
                actor=self.actor, payment=payment, **body.validated_data
            )
            return self._respond(refund)

        return idempotent(request, work)

    @extend_schema(
        request=ReverseSerializer,
        responses={201: PaymentSerializer, **IDEMPOTENCY_RESPONSES},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @action(detail=True, methods=["post"])
    def reverse(self, request, pk=None):
        """Reverse a payment (a bounced cheque): its allocations undone, once."""
        payment = self.get_object()

        def work():
            body = ReverseSerializer(data=request.data, context={"request": request})
            body.is_valid(raise_exception=True)
            reversal = services.payment_reverse(
                actor=self.actor, payment=payment, reason=body.validated_data["reason"]
            )
            return self._respond(reversal)

        return idempotent(request, work)


class StatementInvoiceSerializer(PatronModelSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    gross = MoneyField()
    amount_paid = MoneyField()
    outstanding = MoneyField()

    class Meta:
        model = Invoice
        fields = [
            "id",
            "number",
            "customer",
            "customer_name",
            "issue_date",
            "due_date",
            "gross",
            "amount_paid",
            "outstanding",
        ]
        read_only_fields = fields


class GroupStatementSerializer(PatronSerializer):
    group = serializers.IntegerField()
    members = serializers.IntegerField(help_text="Members you may act on.")
    members_left_out = serializers.IntegerField(help_text="Members outside your groups.")
    outstanding = serializers.DecimalField(max_digits=18, decimal_places=2)
    credit_held = serializers.DecimalField(
        max_digits=18, decimal_places=2, help_text="The rest of group payments, not yet applied."
    )
    open_count = serializers.IntegerField()
    open_invoices = StatementInvoiceSerializer(many=True)
    payments = PaymentSerializer(many=True)


class GroupPaymentViewSet(viewsets.GenericViewSet):
    """A payment group's statement (GET) and a payment for the whole group (POST)."""

    serializer_class = GroupStatementSerializer
    queryset = Payment.objects.none()
    filter_backends = []
    pagination_class = None
    action_perms = {"create": [], "list": ["payments.view_payment"]}

    def group(self) -> Group:
        visible = Group.objects.restrict(self.request.user, "view")
        return get_object_or_404(visible, pk=self.kwargs["group_id"])

    @extend_schema(
        parameters=[OpenApiParameter("group_id", int, OpenApiParameter.PATH)],
        responses={200: GroupStatementSerializer},
    )
    def list(self, request, *args, **kwargs):
        """The group's statement: members' open invoices, payments, outstanding, credit."""
        group = self.group()
        statement = services.group_statement(actor=Actor.from_request(request), group=group)
        payments = _queryset(request.user).filter(pk__in=[p.pk for p in statement["payments"]])
        data = {
            "group": group.pk,
            "members": statement["members"],
            "members_left_out": statement["members_left_out"],
            "outstanding": f"{statement['outstanding']:f}",
            "credit_held": f"{statement['credit_held']:f}",
            "open_count": statement["open_count"],
            "open_invoices": StatementInvoiceSerializer(
                statement["open_invoices"], many=True, context={"request": request}
            ).data,
            "payments": PaymentSerializer(
                payments.order_by("-received_date", "-id"),
                many=True,
                context={"request": request},
            ).data,
        }
        return Response(data)

    @extend_schema(
        request=GroupPaymentInSerializer,
        responses={201: PaymentSerializer, **IDEMPOTENCY_RESPONSES},
        parameters=[
            OpenApiParameter("group_id", int, OpenApiParameter.PATH),
            IDEMPOTENCY_PARAMETER,
        ],
    )
    def create(self, request, *args, **kwargs):
        """A payment for the whole payment group, allocated across its members."""
        group = self.group()

        def work():
            body = GroupPaymentInSerializer(data=request.data, context={"request": request})
            body.is_valid(raise_exception=True)
            data = body.validated_data
            payment = services.payment_record(
                actor=Actor.from_request(request),
                group=group,
                amount=data["amount"],
                method=method_of(data["method"]),
                received_date=data["received_date"],
                reference=data["reference"],
                note=data["note"],
            )
            payment = _queryset(request.user).filter(pk=payment.pk).first() or payment
            return Response(
                PaymentSerializer(payment, context={"request": request}).data,
                status=http_status.HTTP_201_CREATED,
            )

        return idempotent(request, work)
