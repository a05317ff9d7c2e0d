"""A customer's services in the REST API: `/api/customers/{id}/services/`.

GET lists them (all statuses; `?status=active`), POST adds one
(`service`, `quantity`, `price_override`, `start_date`, `end_date`, `note`),
PATCH `.../services/{id}/` changes one, POST `.../services/{id}/end/` ends it
(`end_date`, its last day, today unless given; `reason`). A customer the
user may not see is a 404.
"""

from django.db import transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from patron.catalogue.models import Service
from patron.core.api.serializers import PatronModelSerializer, PatronSerializer
from patron.core.api.viewsets import PatronViewSet
from patron.core.errors import ValidationError
from patron.core.money import parse_amount, to_money
from patron.customers.models import Customer
from patron.subscriptions import services
from patron.subscriptions.models import CustomerService

CUSTOMER = OpenApiParameter("customer_pk", int, OpenApiParameter.PATH)


class OptionalPriceField(serializers.CharField):
    def __init__(self, **kwargs):
        super().__init__(allow_null=True, required=False, allow_blank=True, **kwargs)

    def to_internal_value(self, data):
        text = super().to_internal_value(str(data)).strip()
        if not text:
            return None
        try:
            return parse_amount(text, label="Price", allow_negative=False)
        except ValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc

    def to_representation(self, value):
        return None if value is None else f"{to_money(value):f}"


class CustomerServiceSerializer(PatronModelSerializer):
    """`unit_price` is the override or the catalogue price; `total_price` times the quantity."""

    service = serializers.PrimaryKeyRelatedField(queryset=Service.objects.all())
    service_name = serializers.CharField(source="service.name", read_only=True)
    quantity = serializers.IntegerField(required=False, default=1)
    price_override = OptionalPriceField()
    unit_price = serializers.SerializerMethodField()
    total_price = serializers.SerializerMethodField()

    class Meta:
        model = CustomerService
        fields = [
            "id",
            "customer",
            "service",
            "service_name",
            "quantity",
            "price_override",
            "unit_price",
            "total_price",
            "start_date",
            "end_date",
            "status",
            "note",
            "version",
            "created",
            "modified",
        ]
        read_only_fields = ["customer", "version", "created", "modified"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            self.fields["service"].read_only = True

    def get_unit_price(self, obj) -> str:
        return f"{obj.unit_price:f}"

    def get_total_price(self, obj) -> str:
        return f"{obj.total_price:f}"


class EndSerializer(PatronSerializer):
    end_date = serializers.DateField(required=False, allow_null=True, default=None)
    reason = serializers.CharField(required=False, allow_blank=True, default="")


@extend_schema(parameters=[CUSTOMER])
class CustomerServiceViewSet(PatronViewSet):
    """The services of one customer."""

    model = CustomerService
    serializer_class = CustomerServiceSerializer
    filterset_class = None
    filterset_fields = ["status"]
    select_related = ("service",)
    action_perms = {"end": ["subscriptions.change_customerservice"]}

    def customer(self, action: str = "view") -> Customer:
        visible = Customer.objects.restrict(self.request.user, action)
        return get_object_or_404(visible, pk=self.kwargs["customer_pk"])

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the OpenAPI schema, no request
            return CustomerService.objects.none()
        return super().get_queryset().filter(customer_id=self.kwargs["customer_pk"])

    def list(self, request, *args, **kwargs):
        self.customer()
        return super().list(request, *args, **kwargs)

    def perform_service_create(self, data):
        data = dict(data)
        service = data.pop("service")
        return services.customer_service_add(
            actor=self.actor, customer=self.customer(), service=service, data=data
        )

    def perform_service_update(self, instance, data, expected_version):
        data = {k: v for k, v in data.items() if k != "service"}
        return services.customer_service_update(
            actor=self.actor,
            customer_service=instance,
            data=data,
            expected_version=expected_version,
        )

    def destroy(self, request, *args, **kwargs):
        from rest_framework.exceptions import MethodNotAllowed

        raise MethodNotAllowed("DELETE", detail="Customer services are ended, never deleted.")

    @extend_schema(request=EndSerializer, responses=CustomerServiceSerializer)
    @action(detail=True, methods=["post"])
    @transaction.atomic
    def end(self, request, customer_pk=None, pk=None):
        """End the service: `end_date` is its last day (today unless given)."""
        item = self.locked_for_write(self.get_object())
        body = EndSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        item = services.customer_service_end(
            actor=self.actor, customer_service=item, **body.validated_data
        )
        response = Response(self.get_serializer(item).data)
        response["ETag"] = item.etag
        return response
