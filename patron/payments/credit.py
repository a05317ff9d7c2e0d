"""Held credit applied by the billing run (`billing.runs.AFTER_CHUNK`).

At the end of each chunk of a billing run, in the chunk's transaction, the chunk's new
invoices are paid from credit held for their customers, oldest credit first:

1. the customer's own held credit (the `unallocated` of its own payments), unless the
   customer is in a payment group that does not apply members' credits (Komet's rule:
   a member's credit waits while it is in a payment group);
2. then the credit held on the customer's payment group (the rest of group payments),
   across the group's members in the chunk, oldest invoice first (issue date, then id).
   This part was never on the member's ledger, so it is posted now: one PAYMENT entry
   per member for what the group's credit paid.

A fixed number of queries per chunk, however many customers it holds.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db import connection

from patron.billing.models import Invoice
from patron.customers.models import GroupMembership
from patron.ledger.models import Kind
from patron.ledger.services import Posting, ledger_post_many
from patron.payments.models import Payment, PaymentAllocation

ZERO = Decimal("0")


def apply_held_credit(run, lo: int, hi: int, actor) -> int:
    """Pay the chunk's new invoices from held credit; how many allocations were made."""
    from patron.payments.services import add_paid

    invoices = list(
        Invoice.objects.filter(
            run=run, kind=Invoice.Kind.INVOICE, customer_id__gte=lo, customer_id__lte=hi
        )
        .only("id", "customer_id", "gross", "amount_paid", "issue_date", "number")
        .order_by("issue_date", "id")
    )
    invoices = [i for i in invoices if i.gross > i.amount_paid]
    if not invoices:
        return 0
    customer_ids = sorted({i.customer_id for i in invoices})
    memberships = dict(
        GroupMembership.objects.filter(
            customer_id__in=customer_ids, group__payment_group=True
        ).values_list("customer_id", "group_id")
    )
    from patron.groups.models import Group

    applies_own = dict(
        Group.objects.filter(pk__in=set(memberships.values())).values_list(
            "pk", "apply_member_credits"
        )
    )
    lock = connection.vendor == "postgresql"
    own = Payment.objects.filter(
        kind=Payment.Kind.PAYMENT, customer_id__in=customer_ids, unallocated__gt=0
    ).order_by("received_date", "id")
    groups = (
        Payment.objects.filter(
            kind=Payment.Kind.PAYMENT, group_id__in=set(memberships.values()), unallocated__gt=0
        )
        .select_related("group")
        .order_by("received_date", "id")
    )
    if lock:
        own, groups = own.select_for_update(), groups.select_for_update(of=("self",))
    own_credit = defaultdict(list)
    for payment in own:
        group_id = memberships.get(payment.customer_id)
        if group_id is None or applies_own.get(group_id):
            own_credit[payment.customer_id].append(payment)
    group_credit = defaultdict(list)
    for payment in groups if memberships else []:
        group_credit[payment.group_id].append(payment)
    if not own_credit and not group_credit:
        return 0
    allocations, postings = [], defaultdict(lambda: ZERO)
    changed: dict[int, Payment] = {}

    def pay(invoice, pool, *, post: bool):
        left = invoice.gross - invoice.amount_paid
        for payment in pool:
            if left <= 0:
                break
            take = min(left, payment.unallocated)
            if take <= 0:
                continue
            payment.unallocated -= take
            changed[payment.pk] = payment
            left -= take
            invoice.amount_paid += take
            allocations.append(
                PaymentAllocation(
                    payment=payment,
                    invoice_id=invoice.pk,
                    customer_id=invoice.customer_id,
                    amount=take,
                    by_billing_run=run,
                )
            )
            if post:
                postings[(invoice.customer_id, payment.pk)] += take

    for invoice in invoices:
        pay(invoice, own_credit.get(invoice.customer_id, []), post=False)
        group_id = memberships.get(invoice.customer_id)
        if group_id is not None:
            pay(invoice, group_credit.get(group_id, []), post=True)
    if not allocations:
        return 0
    PaymentAllocation.objects.bulk_create(allocations, batch_size=1000)
    deltas = defaultdict(lambda: ZERO)
    for allocation in allocations:
        deltas[allocation.invoice_id] += allocation.amount
    add_paid(dict(deltas))
    Payment.objects.bulk_update(list(changed.values()), ["unallocated"], batch_size=1000)
    sources = {p.pk: p for p in changed.values()}
    if postings:
        ledger_post_many(
            actor=actor,
            postings=[
                Posting(
                    customer_id=cid,
                    kind=Kind.PAYMENT,
                    amount=-amount,
                    effective_date=run.billing_date,
                    description=f"Group credit applied (payment #{pid}, "
                    f"group “{sources[pid].group}”)"[:200],
                    source=sources[pid],
                )
                for (cid, pid), amount in sorted(postings.items())
            ],
        )
    return len(allocations)
