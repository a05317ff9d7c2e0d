"""The "Invoices" card on the customer overview: billing day, period, the last invoices.

One query whatever the number of invoices (the last five, restricted); the
billing day and the period come from the customer row the page already has.
"""

from django.utils import timezone

from patron.billing.models import Invoice
from patron.billing.runs import add_months, default_billing_day

RECENT_INVOICES = 5


def overview_context(request, customer) -> dict:
    if not request.user.has_perm("billing.view_invoice"):
        return {"invoices_visible": False}
    from patron.billing.views import current_period

    own_day = customer.billing_day
    day = own_day or default_billing_day()
    start, end = current_period(day, timezone.localdate())
    invoices = list(
        Invoice.objects.restrict(request.user)
        .filter(customer=customer)
        .order_by("-issue_date", "-id")[:RECENT_INVOICES]
    )
    return {
        "invoices_visible": True,
        "invoices_billing_day": day,
        "invoices_own_day": own_day is not None,
        "invoices_period_start": start,
        "invoices_period_end": end,
        "invoices_next_date": add_months(start, 1),
        "invoices_recent": invoices,
    }
