"""The "Services" card on the customer overview: current services and the monthly total.

Two queries whatever the number of services (the services with their
catalogue items, and nothing else: the total is summed in Python, exactly).
"""

from patron.subscriptions.models import CustomerService
from patron.subscriptions.services import monthly_total


def overview_context(request, customer) -> dict:
    items = list(
        CustomerService.objects.restrict(request.user)
        .filter(customer=customer)
        .current()
        .select_related("service")
        .order_by("start_date", "id")
    )
    return {
        "services_current": items,
        "services_monthly_total": monthly_total(items),
        "services_can_add": request.user.has_perm("subscriptions.add_customerservice"),
        "services_can_change": request.user.has_perm("subscriptions.change_customerservice"),
    }
