"""A demo customer's life: when the account started, and who was suspended, ceased or left."""

from __future__ import annotations

import datetime

from django.utils import timezone

from patron.customers.models import Customer, StatusChange
from patron.customers.services import customer_archive, customer_status_change

SUSPEND_REASONS = [
    "Unpaid invoices over 60 days",
    "Customer request: working abroad for three months",
    "Abuse report: spam sent from the static IP",
    "Direct Debit cancelled by the bank",
]
CEASE_REASONS = [
    "Moved out of the service area",
    "Switched to another provider",
    "Business closed",
    "Bereavement: account closed at the family's request",
    "Building demolished",
]


def spread_customer_since(demo, made: list) -> None:
    """Spread the accounts over the last six years, oldest first, as a real book is.

    The account's start (its `created` date, the "Customer since" line) and
    its opening status change move back together; the event log keeps the
    day the demo was loaded, as it would for accounts brought over from an
    older system.
    """
    now = timezone.now()
    span = 6 * 365
    for index, customer in enumerate(made):
        days = span - (index * span) // max(1, len(made)) + demo.rng.randrange(0, 3)
        customer.created = now - datetime.timedelta(days=days, minutes=demo.rng.randrange(0, 600))
        customer.status_since = customer.created.date()
    Customer.objects.bulk_update(made, ["created", "status_since"], batch_size=500)
    opened = list(
        StatusChange.objects.filter(customer__in=made, from_status__isnull=True).select_related(
            "customer"
        )
    )
    for change in opened:
        change.effective_date = change.customer.created.date()
    StatusChange.objects.bulk_update(opened, ["effective_date"], batch_size=500)


def make_lifecycle(demo, made: list) -> None:
    """Suspend, cease, schedule and archive a few accounts, with reasons and dates."""
    active = [c for c in made if c.status_id == demo.statuses["Active"].pk]
    demo.rng.shuffle(active)
    count = max(1, len(active) // 16)
    suspended, ceased = active[:count], active[count : count * 2]
    leaving = active[count * 2 : count * 2 + max(1, count // 3)]
    for customer in suspended:
        customer_status_change(
            actor=demo.actor,
            customer=customer,
            status=demo.statuses["Suspended"],
            reason=demo.rng.choice(SUSPEND_REASONS),
            # Within the 30 days after which a suspended account moves on to Ceased.
            effective_date=demo.today - datetime.timedelta(days=demo.rng.randrange(0, 20)),
        )
    for customer in ceased:
        customer_status_change(
            actor=demo.actor,
            customer=customer,
            status=demo.statuses["Ceased"],
            reason=demo.rng.choice(CEASE_REASONS),
            effective_date=demo.today - datetime.timedelta(days=demo.rng.randrange(1, 120)),
        )
    for customer in leaving:
        customer_status_change(
            actor=demo.actor,
            customer=customer,
            status=demo.statuses["Ceased"],
            reason="Notice given: moving house",
            effective_date=demo.today + datetime.timedelta(days=demo.rng.randrange(7, 45)),
        )
    for customer in ceased[: max(1, len(ceased) // 4)]:
        customer_archive(actor=demo.actor, customer=customer, reason="Ceased account tidied away")
