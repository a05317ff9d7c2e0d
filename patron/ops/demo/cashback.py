"""The demo's cashback promo: the static group "Summer promo 2026" and its credits.

- **Group**: "Summer promo 2026", a static group in the demo's multiple-choice
  set "Region" (its only set that lets a customer be in a campaign beside
  their own region), with one active customer in eight as members, added
  through `customer_group_add`.
- **Cashback**: two runs through the cashback service (`cashback_run`, as the
  Cashback page and `/api/groups/{id}/cashback/` start them): a relative
  +£5.00 "Summer promo 2026 welcome credit" for every member, then +£2.50
  "Referral bonus" for a third of them; so a loyalty manager can preview a
  −£5.00 "Expired promo credit" and see who would go below zero.

It runs after billing (and, like billing, not with `billing=False`), from its
own generator (seeded from the demo's seed), so the parts before it stay as
they were. Loaded again with `--force`, the group is reused and no run is
repeated.
"""

from __future__ import annotations

import random

from patron.cashback.models import CashbackRun
from patron.cashback.services import cashback_params, cashback_run
from patron.customers.models import Customer, GroupMembership
from patron.customers.services import customer_group_add
from patron.groups.models import GroupSet
from patron.ops.demo.groups import group

PROMO_GROUP = "Summer promo 2026"
RUNS = [
    ("5.00", "Summer promo 2026 welcome credit", 1),
    ("2.50", "Referral bonus", 3),  # every third member
]


def make_cashback(demo, made: list) -> None:
    rng = random.Random(demo.seed + 2)
    region_set = GroupSet.objects.filter(name__iexact="Region").first()
    if region_set is None:
        return
    promo = group(
        demo,
        PROMO_GROUP,
        group_set=region_set,
        description="Summer 2026 loyalty campaign: members get cashback credits.",
        colour="#20c997",
        position=900,
    )
    demo.promo_group = promo
    if CashbackRun.objects.filter(group=promo).exists():
        return
    active = [c for c in made if not c.archived]
    chosen = sorted(rng.sample(active, max(1, len(active) // 8)), key=lambda c: c.pk)
    already = set(GroupMembership.objects.filter(group=promo).values_list("customer_id", flat=True))
    for customer in chosen:
        if customer.pk not in already:
            customer_group_add(
                actor=demo.actor, customer=Customer.objects.get(pk=customer.pk), group=promo
            )
    ids = [c.pk for c in chosen]
    for amount, comment, every in RUNS:
        params = cashback_params(
            demo.actor,
            {
                "mode": "relative",
                "amount": amount,
                "comment": comment,
                "target": {"ids": ids[::every]},
                "group": promo.pk,
            },
        )
        cashback_run(actor=demo.actor, params=params)
