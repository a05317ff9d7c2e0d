"""The groups' part of the hourly scheduler run by `patron serve` (and cron).

- Temporary memberships (`GroupMembership.valid_until`) end the day after
  their last day, each one logged on its customer like a removal by hand.
- Dynamic groups are compared with their last pass to log who entered and
  who left (`patron.groups.dynamic.dynamic_groups_evaluate`).

Both steps are idempotent: a second pass on the same day changes nothing.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from patron.core import audit
from patron.core.actor import Actor

EXPIRER = Actor.system_actor("group membership scheduler")


def memberships_expire(*, today: datetime.date | None = None) -> int:
    """End every membership whose `valid_until` is before `today`; return how many.

    One DELETE for the lot, one event per customer (written in bulk), each
    naming the group and the last day, and the customers' versions bumped so
    an edit form opened before the expiry notices.
    """
    from patron.customers.models import Customer, GroupMembership

    today = today or timezone.localdate()
    with transaction.atomic():
        due = list(
            GroupMembership.objects.select_for_update(of=("self",))
            .filter(valid_until__lt=today)
            .select_related("customer", "group")
            .order_by("pk")
        )
        if not due:
            return 0
        GroupMembership.objects.filter(pk__in=[m.pk for m in due]).delete()
        now = timezone.now()
        events = [
            audit.build(
                actor=EXPIRER,
                action="groups_changed",
                obj=m.customer,
                customer=m.customer,
                changes={"groups": [[m.group.name], []]},
                message=f"Groups: membership of {m.group.name} ended (valid until "
                f"{m.valid_until.isoformat()})",
                when=now,
            )
            for m in due
        ]
        audit.record_many(events)
        Customer.objects.filter(pk__in={m.customer_id for m in due}).update(
            version=F("version") + 1, modified=now
        )
    return len(due)


def groups_schedule_run(*, today: datetime.date | None = None) -> dict:
    """One pass of the groups' scheduled work; returns counts for the log."""
    from patron.groups.dynamic import dynamic_groups_evaluate

    ended = memberships_expire(today=today)
    changes = dynamic_groups_evaluate()
    return {
        "memberships_ended": ended,
        "dynamic_entered": changes["entered"],
        "dynamic_left": changes["left"],
    }
