"""The global event log: every change, newest first, filterable."""

from patron.core.views import ObjectListView
from patron.events.filters import EventFilterSet
from patron.events.models import Event


class EventListView(ObjectListView):
    """Fifty events a page, with a fixed number of queries however many there are."""

    model = Event
    filterset_class = EventFilterSet
    template_name = "events/event_list.html"
    table_template_name = "events/_event_table.html"
    default_ordering = ("-created", "-id")
    select_related = ("actor_user", "actor_token", "customer", "object_type")
    title = "Event log"
