"""The event log card on the customer overview: the customer's events, newest first.

On the page the card shows the first page; fetched on its own (after a change
on another card, or "Older"/"Newer") it shows the page named by `?page=`.
Two queries (the count and the page) however many events the customer has.
"""

from django.core.paginator import Paginator

from patron.events.models import Event

EVENTS_PER_PAGE = 20


def events_page(request, customer, number=1):
    events = (
        Event.objects.restrict(request.user)
        .filter(customer=customer)
        .select_related("customer", "object_type")
        .order_by("-created", "-id")
    )
    return Paginator(events, EVENTS_PER_PAGE).get_page(number)


def overview_context(request, customer) -> dict:
    """Context for `events/_customer_events_card.html` on the overview page."""
    return {"events": events_page(request, customer)}


def refresh_context(request, customer) -> dict:
    """The card on its own, at the page the request names."""
    return {"events": events_page(request, customer, request.GET.get("page"))}
