"""The "Payments" card on the customer overview: the last payments, the credit held,
and "Record a payment". One query for the payments, one for the credit held."""

from django.db.models import Sum

from patron.core.money import to_money
from patron.payments.models import Payment

RECENT_PAYMENTS = 5


def overview_context(request, customer) -> dict:
    if not request.user.has_perm("payments.view_payment"):
        return {"payments_visible": False}
    recent = list(
        Payment.objects.restrict(request.user)
        .filter(customer=customer)
        .select_related("method")
        .order_by("-received_date", "-id")[:RECENT_PAYMENTS]
    )
    held = Payment.objects.filter(
        customer=customer, kind=Payment.Kind.PAYMENT, unallocated__gt=0
    ).aggregate(s=Sum("unallocated"))["s"]
    return {
        "payments_visible": True,
        "payments_recent": recent,
        "payments_credit_held": to_money(held or 0),
        "payments_may_record": request.user.has_perm("payments.add_payment"),
    }
