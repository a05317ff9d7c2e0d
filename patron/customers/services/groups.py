"""Group memberships, with the single-choice and payment-group rules."""

from __future__ import annotations

from collections import defaultdict

from django.db import transaction
from django.utils import timezone

from patron.core import audit
from patron.core.actor import Actor
from patron.core.errors import ConflictError, ValidationError
from patron.core.services import object_touch, require_perm
from patron.customers.models import Customer, GroupMembership, ScheduledMembership
from patron.groups.models import Group, GroupSet


def check_group_rules(groups, customer: Customer | None = None, current=()) -> None:
    """Refuse a set of groups that breaks a membership rule, naming the groups.

    `current` is what the customer holds now, so the message can say which
    group is already held when a second one from a single-choice set is asked.
    """
    held = {g.pk for g in current}
    dynamic = [g for g in groups if g.segment_id is not None and g.pk not in held]
    if dynamic:
        raise ValidationError(
            {
                "groups": f"“{dynamic[0]}” is a dynamic group: its members are whoever its "
                "segment selects, so nobody can be added to it by hand."
            }
        )
    by_set = defaultdict(list)
    for group in groups:
        by_set[group.group_set_id].append(group)
    for set_groups in by_set.values():
        group_set = set_groups[0].group_set
        if group_set.single_choice and len(set_groups) > 1:
            already = [g for g in set_groups if g.pk in held]
            new = [g for g in set_groups if g.pk not in held]
            if already and new:
                raise ValidationError(
                    {
                        "groups": f"{customer.name if customer else 'The customer'} is already "
                        f"in “{already[0]}” of the single-choice set “{group_set}”; remove it "
                        f"before adding “{new[0]}”."
                    }
                )
            names = " and ".join(f"“{g}”" for g in set_groups)
            raise ValidationError(
                {
                    "groups": f"Only one group of the single-choice set “{group_set}” may be "
                    f"chosen, not {names}."
                }
            )
    payment = [g for g in groups if g.payment_group]
    if len(payment) > 1:
        names = " and ".join(f"“{g}”" for g in payment)
        raise ValidationError(
            {"groups": f"A customer can be in only one payment group, not {names}."}
        )


def customer_groups_set(
    *,
    actor: Actor,
    customer: Customer,
    groups,
    expected_version: int | None = None,
    message: str = "",
) -> Customer:
    """Make `groups` exactly the customer's groups; log what was added and removed
    (`message`, when given, replaces the event's generated one)."""
    require_perm(actor, Customer, "change")
    wanted = {g.pk: g for g in groups}
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        if expected_version is not None and locked.version != int(expected_version):
            raise ConflictError(locked)
        memberships = list(
            GroupMembership.objects.filter(customer=locked).select_related("group__group_set")
        )
        current = {m.group_id: m.group for m in memberships}
        added = [g for pk, g in wanted.items() if pk not in current]
        removed = [pk for pk in current if pk not in wanted]
        if not added and not removed:
            return locked
        archived = [g for g in added if g.archived]
        if archived:
            raise ValidationError(
                {"groups": f"“{archived[0]}” is archived and cannot be given to customers."}
            )
        check_group_rules(list(wanted.values()), locked, current.values())
        GroupMembership.objects.filter(customer=locked, group_id__in=removed).delete()
        GroupMembership.objects.bulk_create(
            [
                GroupMembership(
                    customer=locked,
                    group=g,
                    group_set_id=g.group_set_id,
                    exclusive=g.group_set.single_choice,
                )
                for g in added
            ]
        )
        Group.objects.filter(pk__in=[g.pk for g in added], was_used=False).update(was_used=True)
        before = sorted(g.name for g in current.values())
        after = sorted(g.name for g in wanted.values())
        parts = []
        if added:
            parts.append("added " + ", ".join(sorted(g.name for g in added)))
        if removed:
            parts.append("removed " + ", ".join(sorted(current[pk].name for pk in removed)))
        _groups_changed(
            actor,
            locked,
            changes={"groups": [before, after]},
            message=(message or "Groups: " + "; ".join(parts))[:300],
        )
    return locked


def _groups_changed(actor: Actor, customer: Customer, *, changes: dict, message: str) -> None:
    """Step the customer's version and log a change to its groups (one path for all)."""
    object_touch(customer)
    audit.record(
        actor=actor,
        action="groups_changed",
        obj=customer,
        customer=customer,
        changes=changes,
        message=message,
    )


def _check_dates(valid_from, valid_until, today) -> None:
    if valid_until is None:
        return
    if valid_from is not None and valid_until < valid_from:
        raise ValidationError(
            {
                "valid_until": f"The last day ({valid_until.isoformat()}) cannot be before "
                f"the first day ({valid_from.isoformat()})."
            }
        )
    if valid_until < today:
        raise ValidationError(
            {"valid_until": "The last day of a membership cannot be in the past."}
        )


def customer_group_add(
    *,
    actor: Actor,
    customer: Customer,
    group: Group,
    valid_until=None,
    valid_from=None,
    message: str = "",
) -> Customer:
    """Add one group; with `valid_until` (a date) the membership ends by itself after that
    day (the scheduler removes it and logs it, see `patron.groups.schedule`).

    A `valid_from` after today does not add the group yet: it schedules the
    membership (`customer_group_schedule`) and the scheduler starts it on that
    day. An empty or past `valid_from` means now.
    """
    require_perm(actor, Customer, "change")
    today = timezone.localdate()
    _check_dates(valid_from, valid_until, today)
    if valid_from is not None and valid_from > today:
        customer_group_schedule(
            actor=actor,
            customer=customer,
            group=group,
            valid_from=valid_from,
            valid_until=valid_until,
        )
        return customer
    if not message and valid_until is not None:
        message = f"Groups: added {group.name} (until {valid_until.isoformat()})"
    with transaction.atomic():
        # The current groups are read under the customer's lock: two groups added at once
        # both stay (or the group rules refuse the second), neither undoes the other.
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        current = list(customer.groups.select_related("group_set"))
        if any(g.pk == group.pk for g in current):
            raise ValidationError({"groups": f"{customer.name} is already in “{group}”."})
        customer = customer_groups_set(
            actor=actor, customer=customer, groups=[*current, group], message=message
        )
        if valid_until is not None:
            GroupMembership.objects.filter(customer=customer, group=group).update(
                valid_until=valid_until
            )
    return customer


def _day(day) -> str:
    return day.isoformat() if day else "no end"


def _period(valid_from, valid_until) -> str:
    until = f" (until {valid_until.isoformat()})" if valid_until else ""
    return f"on {valid_from.isoformat()}{until}"


def customer_group_schedule(
    *, actor: Actor, customer: Customer, group: Group, valid_from, valid_until=None
) -> ScheduledMembership:
    """Schedule the customer to join `group` on `valid_from` (a later day).

    Until then nothing counts the customer as a member. The rules are checked
    now against the groups the customer will still hold on that day, and again
    by the scheduler when it starts the membership.
    """
    require_perm(actor, Customer, "change")
    today = timezone.localdate()
    if valid_from is None or valid_from <= today:
        raise ValidationError({"valid_from": "A scheduled membership starts after today."})
    _check_dates(valid_from, valid_until, today)
    if group.archived:
        raise ValidationError(
            {"groups": f"“{group}” is archived and cannot be given to customers."}
        )
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        waiting = locked.scheduled_memberships.filter(group=group).first()
        if waiting is not None:
            raise ValidationError(
                {
                    "valid_from": f"{locked.name} is already scheduled to join “{group}” "
                    f"on {waiting.valid_from.isoformat()}; cancel that first."
                }
            )
        # What the customer will still hold on the first day.
        held = [
            m.group
            for m in GroupMembership.objects.filter(customer=locked).select_related(
                "group__group_set"
            )
            if m.valid_until is None or m.valid_until >= valid_from
        ]
        if any(g.pk == group.pk for g in held):
            raise ValidationError(
                {"groups": f"{locked.name} is already in “{group}” on {valid_from.isoformat()}."}
            )
        check_group_rules([*held, group], locked, held)
        scheduled = ScheduledMembership.objects.create(
            customer=locked,
            group=group,
            group_name=group.name,
            valid_from=valid_from,
            valid_until=valid_until,
            created_by=actor.user if actor.user is not None and actor.user.pk else None,
            created_by_label=actor.label[:200],
        )
        _groups_changed(
            actor,
            locked,
            changes={
                "scheduled_groups": [None, f"{group.name} {_period(valid_from, valid_until)}"]
            },
            message=f"Groups: scheduled to join {group.name} {_period(valid_from, valid_until)}",
        )
    return scheduled


def customer_group_schedule_cancel(*, actor: Actor, scheduled: ScheduledMembership) -> None:
    """Cancel a membership that has not started yet (or could not start)."""
    require_perm(actor, Customer, "change")
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=scheduled.customer_id)
        row = ScheduledMembership.objects.filter(pk=scheduled.pk, customer=locked).first()
        if row is None:
            raise ValidationError(
                "That scheduled membership has already started or been cancelled; "
                "reload the page to see the current groups."
            )
        period = _period(row.valid_from, row.valid_until)
        row.delete()
        _groups_changed(
            actor,
            locked,
            changes={"scheduled_groups": [f"{row.group_name} {period}", None]},
            message=f"Groups: cancelled joining {row.group_name} {period}",
        )


def customer_group_validity_set(
    *, actor: Actor, customer: Customer, group: Group, valid_until=None
) -> GroupMembership:
    """Change or clear (`None`) the last day of the customer's membership of `group`."""
    require_perm(actor, Customer, "change")
    _check_dates(None, valid_until, timezone.localdate())
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        membership = (
            GroupMembership.objects.select_for_update().filter(customer=locked, group=group).first()
        )
        if membership is None:
            raise ValidationError({"groups": f"{locked.name} is not in “{group}”."})
        before = membership.valid_until
        if before == valid_until:
            return membership
        membership.valid_until = valid_until
        membership.save(update_fields=["valid_until"])
        _groups_changed(
            actor,
            locked,
            changes={
                f"valid_until ({group.name})": [
                    before.isoformat() if before else None,
                    valid_until.isoformat() if valid_until else None,
                ]
            },
            message=f"Groups: {group.name} until {_day(before)} -> {_day(valid_until)}",
        )
    return membership


def customer_group_remove(*, actor: Actor, customer: Customer, group: Group) -> Customer:
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        current = list(locked.groups.select_related("group_set"))
        if not any(g.pk == group.pk for g in current):
            raise ValidationError({"groups": f"{locked.name} is not in “{group}”."})
        return customer_groups_set(
            actor=actor, customer=locked, groups=[g for g in current if g.pk != group.pk]
        )


def customer_group_add_by_name(
    *,
    actor: Actor,
    customer: Customer,
    name: str,
    group_set: GroupSet | None = None,
    valid_from=None,
    valid_until=None,
) -> Customer:
    """Add the group called `name`; create it first if it does not exist and
    the actor may create groups (typed-in group names, ORG-7)."""
    from patron.groups.services import group_create

    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Type the name of a group."})
    dates = {"valid_from": valid_from, "valid_until": valid_until}
    _check_dates(valid_from, valid_until, timezone.localdate())
    group = Group.objects.select_related("group_set").filter(name__iexact=name).first()
    if group is None:
        if not actor.has_perm("groups.add_group"):
            raise ValidationError(
                {"name": f"There is no group named “{name}”, and your role cannot create groups."}
            )
        group_set = group_set or GroupSet.objects.order_by("position", "pk").first()
        with transaction.atomic():
            group = group_create(actor=actor, data={"name": name, "group_set": group_set})
            return customer_group_add(actor=actor, customer=customer, group=group, **dates)
    return customer_group_add(actor=actor, customer=customer, group=group, **dates)
