"""Custom field definitions and each customer's values in the REST API."""

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from patron.core.api.pagination import CursorPagination
from patron.core.api.serializers import PatronModelSerializer, PatronSerializer
from patron.core.api.viewsets import PatronViewSet, ServiceWrites
from patron.customers.models import Customer
from patron.customfields import services
from patron.customfields.filters import CustomFieldFilterSet
from patron.customfields.models import CustomField


class CustomFieldSerializer(PatronModelSerializer):
    key = serializers.CharField(required=False, allow_blank=True, max_length=50)
    choices = serializers.ListField(child=serializers.CharField(), required=False)

    class Meta:
        model = CustomField
        fields = [
            "id",
            "key",
            "label",
            "help_text",
            "field_type",
            "choices",
            "required",
            "show_on_overview",
            "position",
            "archived",
            "version",
            "created",
            "modified",
        ]
        read_only_fields = ["version", "created", "modified"]


class CustomValuesSerializer(PatronSerializer):
    """`values`: an object of custom field key -> value (null or "" clears it)."""

    values = serializers.DictField(child=serializers.JSONField(allow_null=True))


class CustomValuesResponseSerializer(PatronSerializer):
    customer = serializers.IntegerField()
    version = serializers.IntegerField()
    values = serializers.DictField()


class PositionPagination(CursorPagination):
    """Definitions come in the order the Custom tab shows them."""

    ordering = ("position", "id")


class CustomFieldViewSet(PatronViewSet):
    """Custom field definitions, and the values on each customer.

    `GET /api/custom-fields/customer/<customer id>/` reads a customer's values;
    `PATCH` sets the keys it is given, `PUT` sets every active field (keys left
    out are cleared). Both honour `If-Match` with the customer's ETag. Errors
    are keyed by the field key: `{"contract_end": ["Contract end must be a
    date like 2026-03-31."]}`.
    """

    model = CustomField
    serializer_class = CustomFieldSerializer
    filterset_class = CustomFieldFilterSet
    pagination_class = PositionPagination
    action_perms = {"customer_values": ["customers.view_customer"]}

    writes = ServiceWrites(
        create=services.custom_field_create,
        update=services.custom_field_update,
        delete=services.custom_field_delete,
        name="field",
    )

    def _values_response(self, customer):
        response = Response(
            {"customer": customer.pk, "version": customer.version, "values": customer.custom_fields}
        )
        response["ETag"] = customer.etag
        return response

    @extend_schema(
        request=CustomValuesSerializer,
        responses=CustomValuesResponseSerializer,
        parameters=[OpenApiParameter("customer_pk", int, OpenApiParameter.PATH)],
    )
    @action(
        detail=False,
        methods=["get", "put", "patch"],
        url_path=r"customer/(?P<customer_pk>\d+)",
    )
    def customer_values(self, request, customer_pk=None):
        """A customer's custom values (GET), set some (PATCH) or all (PUT)."""
        user = request.user
        customer = Customer.objects.restrict(user, "view").filter(pk=customer_pk).first()
        if customer is None:
            raise Http404
        if request.method == "GET":
            return self._values_response(customer)
        if not Customer.objects.restrict(user, "change").filter(pk=customer.pk).exists():
            raise PermissionDenied("Your role does not allow you to change customers.")
        expected = self.expected_version(customer)
        body = CustomValuesSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        values = dict(body.validated_data["values"])
        if request.method == "PUT":
            for key in CustomField.objects.filter(archived=False).values_list("key", flat=True):
                values.setdefault(key, None)
        customer = services.customer_custom_fields_set(
            actor=self.actor, customer=customer, values=values, expected_version=expected
        )
        return self._values_response(customer)
