"""Customer classes in the REST API."""

from patron.classes import services
from patron.classes.filters import CustomerClassFilterSet
from patron.classes.models import CustomerClass
from patron.core.api.serializers import PatronModelSerializer
from patron.core.api.viewsets import PatronViewSet, ServiceWrites


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

    writes = ServiceWrites(
        create=services.customer_class_create,
        update=services.customer_class_update,
        delete=services.customer_class_delete,
        name="customer_class",
    )
