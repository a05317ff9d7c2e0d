"""The demo loader: one seeded run through the parts of the provider's book."""

from __future__ import annotations

import random

from django.db import transaction
from django.utils import timezone

from patron.core.actor import Actor
from patron.customers.models import Customer
from patron.ops.defaults import ensure_defaults
from patron.ops.demo import (
    abroad,
    billing,
    cashback,
    customers,
    groups,
    lifecycle,
    lists,
    people,
    work,
)
from patron.ops.demo.base import DemoSummary

DEMO_SEED = 20260401
DEMO_CUSTOMERS = 300
DEMO_ACTOR = "demo loader"


class DemoRefused(Exception):
    """The database already holds customers and `force` was not given."""


class DemoLoader:
    """The state the parts share: the actor, the seeded generator, and the rows made so far
    (`tags`, `classes`, `departments`, `statuses`, `customer_groups`, `regions`, ...)."""

    def __init__(self, *, customers: int, seed: int, billing: bool = True):
        self.count = customers
        self.billing = billing
        self.seed = seed
        self.rng = random.Random(seed)
        self.actor = Actor.system_actor(DEMO_ACTOR)
        self.summary = DemoSummary()
        self.today = timezone.localdate()
        self.made: list = []

    def load(self) -> DemoSummary:
        # The order is part of the seed: each part draws from `rng` in turn.
        lists.make_lists(self)
        groups.make_groups(self)
        people.make_users(self)
        self.made = customers.make_customers(self)
        abroad.move_abroad(self, self.made)
        lifecycle.spread_customer_since(self, self.made)
        # Billing draws from its own generator, so the parts around it stay as they were.
        if self.billing:
            billing.make_billing(self, self.made)
            # The cashback promo, after billing, from its own generator too.
            cashback.make_cashback(self, self.made)
        lifecycle.make_lifecycle(self, self.made)
        self.summary.customers = len(self.made)
        work.make_work(self, self.made)
        return self.summary


def load_demo(
    *,
    customers: int = DEMO_CUSTOMERS,
    seed: int = DEMO_SEED,
    force: bool = False,
    billing: bool = True,
) -> DemoSummary:
    """Load the demo data in one transaction; refuse if customers exist unless `force`.

    `billing=False` leaves out the catalogue, services, invoices, payments and the cashback
    promo (for a test that deletes the customers again: invoices and ledger entries are
    never deleted).
    """
    existing = Customer.objects.count()
    if existing and not force:
        raise DemoRefused(
            f"The database already holds {existing} customer(s), so the demo data was not "
            "loaded. Use --force to add the demo customers anyway."
        )
    with transaction.atomic():
        ensure_defaults()
        return DemoLoader(customers=customers, seed=seed, billing=billing).load()
