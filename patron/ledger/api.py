"""A customer's ledger in the REST API: `/api/customers/{id}/ledger/`.

GET lists the entries of a book (`?book=money`, the default, or `cashback`),
newest first, each with the running balance after it. POST posts a manual
adjustment (`amount`, required `reason`, optional `effective_date`) for roles
allowed to adjust balances.
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework import status as http_status
from rest_framework.response import Response

from patron.core.actor import Actor
from patron.core.api.serializers import PatronModelSerializer, PatronSerializer
from patron.core.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from patron.customers.models import Customer
from patron.ledger import services
from patron.ledger.models import Book, LedgerEntry


class LedgerEntrySerializer(PatronModelSerializer):
    """Amounts are decimal strings; positive means the customer owes more (money book)."""

    amount = serializers.DecimalField(max_digits=18, decimal_places=2, coerce_to_string=True)
    running_balance = serializers.DecimalField(
        max_digits=18, decimal_places=2, coerce_to_string=True
    )
    source_type = serializers.SlugRelatedField(slug_field="model", read_only=True)

    class Meta:
        model = LedgerEntry
        fields = [
            "id",
            "customer",
            "book",
            "kind",
            "amount",
            "running_balance",
            "effective_date",
            "posted_at",
            "description",
            "reason",
            "actor_label",
            "batch",
            "source_type",
            "source_id",
            "reverses",
        ]
        read_only_fields = fields

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from patron.core.money import minor_unit

        for name in ("amount", "running_balance"):
            self.fields[name].decimal_places = minor_unit()


class AdjustmentSerializer(PatronSerializer):
    amount = serializers.CharField(help_text="Decimal string; positive: the customer owes more.")
    reason = serializers.CharField(allow_blank=True, required=False, default="")
    effective_date = serializers.DateField(required=False, allow_null=True, default=None)


class CustomerLedgerViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The ledger of one customer (404 for a customer the user may not see)."""

    serializer_class = LedgerEntrySerializer
    queryset = LedgerEntry.objects.none()
    filter_backends = []
    action_perms = {"create": ["ledger.adjust_balance"]}

    def customer(self) -> Customer:
        if not hasattr(self, "_customer"):
            visible = Customer.objects.restrict(self.request.user, "view")
            self._customer = get_object_or_404(visible, pk=self.kwargs["customer_pk"])
        return self._customer

    def get_queryset(self):
        book = self.request.query_params.get("book") or Book.MONEY
        return (
            LedgerEntry.objects.restrict(self.request.user)
            .filter(customer=self.customer(), book=book)
            .select_related("source_type")
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("customer_pk", int, OpenApiParameter.PATH),
            OpenApiParameter("book", str, enum=Book.values, description="money (default)"),
        ]
    )
    def list(self, request, *args, **kwargs):
        self.customer()
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=AdjustmentSerializer,
        responses={201: LedgerEntrySerializer},
        parameters=[
            OpenApiParameter("customer_pk", int, OpenApiParameter.PATH),
            IDEMPOTENCY_PARAMETER,
        ],
    )
    def create(self, request, *args, **kwargs):
        """Post a manual adjustment with its reason (`Idempotency-Key`: never twice)."""
        customer = self.customer()

        def work():
            body = AdjustmentSerializer(data=request.data, context={"request": request})
            body.is_valid(raise_exception=True)
            entry = services.ledger_adjust(
                actor=Actor.from_request(request), customer=customer, **body.validated_data
            )
            return Response(self.get_serializer(entry).data, status=http_status.HTTP_201_CREATED)

        return idempotent(request, work)


@extend_schema_field(OpenApiTypes.DECIMAL)
class BalanceField(serializers.Field):
    """The customer's money balance (read-only; positive: the customer owes), from the
    narrow balance table; prefetch `balances` on a list to read it without a query."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("source", "*")
        super().__init__(**kwargs)

    def to_representation(self, customer):
        from patron.core.money import to_money

        for balance in customer.balances.all():
            if balance.book == Book.MONEY:
                return f"{to_money(balance.amount):f}"
        return f"{to_money(0):f}"
