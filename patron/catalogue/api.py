"""The catalogue in the REST API: `/api/services/`, `/api/tax-rates/`, `/api/inventory-types/`.

Prices are decimal strings with the currency's decimals; more are refused.
"""

from rest_framework import serializers

from patron.catalogue import services
from patron.catalogue.filters import InventoryTypeFilterSet, ServiceFilterSet, TaxRateFilterSet
from patron.catalogue.models import InventoryType, Service, TaxRate
from patron.core.api.serializers import PatronModelSerializer
from patron.core.api.viewsets import PatronViewSet, ServiceWrites
from patron.core.errors import ValidationError
from patron.core.money import currency, parse_amount
from patron.groups.models import Group


class PriceField(serializers.CharField):
    """An amount in the installation's currency, as a decimal string ("45.00")."""

    def to_internal_value(self, data):
        text = super().to_internal_value(str(data))
        try:
            return parse_amount(text, label="Price", allow_negative=False)
        except ValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc

    def to_representation(self, value):
        from patron.core.money import to_money

        return f"{to_money(value):f}"


class TaxRateSerializer(PatronModelSerializer):
    class Meta:
        model = TaxRate
        fields = ["id", "name", "rate", "is_default", "archived", "position", "version"]
        read_only_fields = ["version"]


class InventoryTypeSerializer(PatronModelSerializer):
    class Meta:
        model = InventoryType
        fields = ["id", "name", "description", "archived", "position", "version"]
        read_only_fields = ["version"]


class ServiceSerializer(PatronModelSerializer):
    """`price` is gross when `price_includes_tax`, else net; `net_price` and
    `gross_price` give both. `allowed_groups` empty: anyone may have it."""

    price = PriceField()
    tax_rate = serializers.PrimaryKeyRelatedField(
        queryset=TaxRate.objects.all(), required=False, allow_null=True
    )
    allowed_groups = serializers.PrimaryKeyRelatedField(
        queryset=Group.objects.all(), many=True, required=False
    )
    net_price = serializers.SerializerMethodField()
    gross_price = serializers.SerializerMethodField()
    currency = serializers.SerializerMethodField()

    class Meta:
        model = Service
        fields = [
            "id",
            "code",
            "name",
            "description",
            "kind",
            "price",
            "price_includes_tax",
            "net_price",
            "gross_price",
            "currency",
            "unit",
            "tax_rate",
            "inventory_type",
            "allowed_groups",
            "archived",
            "version",
            "created",
            "modified",
        ]
        read_only_fields = ["price_includes_tax", "version", "created", "modified"]

    def get_net_price(self, obj) -> str:
        return f"{obj.net_price():f}"

    def get_gross_price(self, obj) -> str:
        return f"{obj.gross_price():f}"

    def get_currency(self, obj) -> str:
        return currency()


class TaxRateViewSet(PatronViewSet):
    """Tax rates services carry (e.g. UK VAT 20%). One is the default for new services."""

    model = TaxRate
    serializer_class = TaxRateSerializer
    filterset_class = TaxRateFilterSet
    writes = ServiceWrites(
        create=services.tax_rate_create,
        update=services.tax_rate_update,
        delete=services.tax_rate_delete,
        name="tax_rate",
    )


class InventoryTypeViewSet(PatronViewSet):
    """What kind of thing a service is (broadband, voice, equipment...)."""

    model = InventoryType
    serializer_class = InventoryTypeSerializer
    filterset_class = InventoryTypeFilterSet
    writes = ServiceWrites(
        create=services.inventory_type_create,
        update=services.inventory_type_update,
        delete=services.inventory_type_delete,
        name="inventory_type",
    )


class ServiceViewSet(PatronViewSet):
    """The service catalogue. Filters: `q` (code or name), `kind`, `inventory_type`,
    `archived`. A service given to customers is archived (`archived: true`), not deleted."""

    model = Service
    serializer_class = ServiceSerializer
    filterset_class = ServiceFilterSet
    select_related = ("tax_rate",)
    prefetch_related = ("allowed_groups",)
    writes = ServiceWrites(
        create=services.service_create,
        update=services.service_update,
        delete=services.service_delete,
        name="service",
    )
