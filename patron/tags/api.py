"""Tags in the REST API."""

from patron.core.api.serializers import PatronModelSerializer
from patron.core.api.viewsets import PatronViewSet
from patron.tags import services
from patron.tags.filters import TagFilterSet
from patron.tags.models import Tag


class TagSerializer(PatronModelSerializer):
    class Meta:
        model = Tag
        fields = ["id", "name", "colour", "description", "version", "created", "modified"]
        read_only_fields = ["version", "created", "modified"]


class TagViewSet(PatronViewSet):
    """Customer tags. Names are unique in any letter case."""

    model = Tag
    serializer_class = TagSerializer
    filterset_class = TagFilterSet

    def perform_service_create(self, data):
        return services.tag_create(actor=self.actor, data=data)

    def perform_service_update(self, instance, data, expected_version):
        return services.tag_update(
            actor=self.actor, tag=instance, data=data, expected_version=expected_version
        )

    def perform_service_delete(self, instance):
        services.tag_delete(actor=self.actor, tag=instance)
