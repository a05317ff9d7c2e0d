from django import template

from patron.payments.models import PaymentAllocation

register = template.Library()


@register.simple_tag
def invoice_allocations(invoice):
    """The allocations that paid (or, negative, reopened) an invoice, oldest first."""
    return list(
        PaymentAllocation.objects.filter(invoice=invoice)
        .select_related("payment__method", "payment__group")
        .order_by("id")
    )
