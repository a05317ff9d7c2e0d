"""The groups' part of the hourly scheduler run by `patron serve` (and cron).

- Temporary memberships (`GroupMembership.valid_until`) end the day after
  their last day, each one logged on its customer like a removal by hand.
- Scheduled memberships (`ScheduledMembership`) start on their first day
  through the same service as adding by hand, logged "joined X (scheduled
  from DATE)"; one that would break a group rule, or whose group was
  archived or deleted, stays scheduled with the reason in `failure` and is
  not tried again.
- Dynamic groups are compared with their last pass to log who entered and
  who left (`patron.groups.dynamic.dynamic_groups_evaluate`).

Both steps are idempotent: a second pass on the same day changes nothing.
"""

from __future__ import annotations

import datetime

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from patron.core import audit
from patron.core.actor import Actor
from patron.core.errors import ValidationError

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


def scheduled_memberships_start(*, today: datetime.date | None = None) -> int:
    """Start every scheduled membership whose first day has come; return how many.

    Each one is its own transaction: one that cannot start gets its reason
    in `failure` (and an event on its customer) without stopping the others.
    """
    from patron.customers.models import ScheduledMembership

    today = today or timezone.localdate()
    due = ScheduledMembership.objects.filter(valid_from__lte=today, failure="").order_by(
        "valid_from", "pk"
    )
    started = 0
    for pk in list(due.values_list("pk", flat=True)):
        with transaction.atomic():
            row = (
                ScheduledMembership.objects.select_for_update(of=("self",))
                .select_related("customer", "group__group_set")
                .filter(pk=pk, failure="")
                .first()
            )
            if row is None:  # started or cancelled meanwhile
                continue
            failure = _start_one(row, today)
            if failure:
                row.failure = failure[:300]
                row.save(update_fields=["failure"])
                audit.record(
                    actor=EXPIRER,
                    action="groups_changed",
                    obj=row.customer,
                    customer=row.customer,
                    message=f"Groups: could not join {row.group_name} as scheduled on "
                    f"{row.valid_from.isoformat()}: {failure}",
                )
            else:
                row.delete()
                started += 1
    return started


def _start_one(row, today: datetime.date) -> str:
    """Add the scheduled membership; the reason it cannot start, or "" when it did."""
    from patron.customers.services.groups import customer_group_add

    group = row.group
    if group is None:
        return f"The group “{row.group_name}” was deleted."
    if group.archived:
        return f"“{group}” is archived and cannot be given to customers."
    if row.valid_until is not None and row.valid_until < today:
        return f"Its last day ({row.valid_until.isoformat()}) passed before it could start."
    until = f", until {row.valid_until.isoformat()}" if row.valid_until else ""
    try:
        customer_group_add(
            actor=EXPIRER,
            customer=row.customer,
            group=group,
            valid_until=row.valid_until,
            message=f"Groups: joined {group.name} (scheduled from "
            f"{row.valid_from.isoformat()} by {row.created_by_label}{until})",
        )
    except ValidationError as exc:
        return " ".join(exc.messages)
    except IntegrityError:  # the single-choice constraint, if a write raced the check
        return f"It would break a rule of the group set “{group.group_set}”."
    return ""


def groups_schedule_run(*, today: datetime.date | None = None) -> dict:
    """One pass of the groups' scheduled work; returns counts for the log."""
    from patron.groups.dynamic import dynamic_groups_evaluate

    # Ended first, so a membership ending yesterday frees its single-choice set
    # for one starting today.
    ended = memberships_expire(today=today)
    started = scheduled_memberships_start(today=today)
    changes = dynamic_groups_evaluate()
    return {
        "memberships_ended": ended,
        "memberships_started": started,
        "dynamic_entered": changes["entered"],
        "dynamic_left": changes["left"],
    }
