"""The tickets card on the customer overview.

Closed tickets are left out unless the overview is opened with
`?closed_tickets=1` ("Show closed tickets").
"""

from patron.tickets.forms import TicketQuickForm
from patron.tickets.models import Ticket

TICKETS_ON_OVERVIEW = 20


def overview_context(request, customer) -> dict:
    """Context for `tickets/_customer_tickets.html`; a fixed number of queries."""
    user = request.user
    show_closed = request.GET.get("closed_tickets") == "1"
    visible = Ticket.objects.restrict(user).filter(customer=customer)
    shown = visible if show_closed else visible.open()
    tickets = list(
        shown.select_related("department", "assignee").open_first()[: TICKETS_ON_OVERVIEW + 1]
    )
    can_add = user.has_perm("tickets.add_ticket")
    return {
        "tickets": tickets[:TICKETS_ON_OVERVIEW],
        "tickets_more": len(tickets) > TICKETS_ON_OVERVIEW,
        "show_closed_tickets": show_closed,
        "closed_ticket_count": visible.closed().count(),
        "ticket_form": TicketQuickForm(user=user) if can_add else None,
    }
