"""Tags in the REST API."""

from patron.core.api.serializers import PatronModelSerializer
from patron.core.api.viewsets import PatronViewSet, ServiceWrites
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

    writes = ServiceWrites(
        create=services.tag_create,
        update=services.tag_update,
        delete=services.tag_delete,
        name="tag",
    )
