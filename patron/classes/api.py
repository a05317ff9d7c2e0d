"""Customer classes in the REST API."""

from patron.classes import services
from patron.classes.filters import CustomerClassFilterSet
from patron.classes.models import CustomerClass
from patron.core.api.serializers import PatronModelSerializer
from patron.core.api.viewsets import PatronViewSet


class CustomerClassSerializer(PatronModelSerializer):
    class Meta:
        model = CustomerClass
        fields = [
            "id",
            "name",
            "description",
            "retention_days",
            "verification_required",
            "position",
            "version",
            "created",
            "modified",
        ]
        read_only_fields = ["version", "created", "modified"]


class CustomerClassViewSet(PatronViewSet):
    """Customer classes: data-protection and verification categories, one per
    customer. Names are unique in any letter case; a class in use cannot be deleted."""

    model = CustomerClass
    serializer_class = CustomerClassSerializer
    filterset_class = CustomerClassFilterSet

    def perform_service_create(self, data):
        return services.customer_class_create(actor=self.actor, data=data)

    def perform_service_update(self, instance, data, expected_version):
        return services.customer_class_update(
            actor=self.actor, customer_class=instance, data=data, expected_version=expected_version
        )

    def perform_service_delete(self, instance):
        services.customer_class_delete(actor=self.actor, customer_class=instance)
