"""Group memberships, with the single-choice and payment-group rules."""

from __future__ import annotations

from collections import defaultdict

from django.db import transaction
from django.utils import timezone

from patron.core import audit
from patron.core.actor import Actor
from patron.core.errors import ConflictError, ValidationError
from patron.core.services import object_touch, require_perm
from patron.customers.models import Customer, GroupMembership
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
    *, actor: Actor, customer: Customer, groups, expected_version: int | None = None
) -> Customer:
    """Make `groups` exactly the customer's groups; log what was added and removed."""
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
        object_touch(locked)
        audit.record(
            actor=actor,
            action="groups_changed",
            obj=locked,
            customer=locked,
            changes={"groups": [before, after]},
            message=("Groups: " + "; ".join(parts))[:300],
        )
    return locked


def customer_group_add(
    *, actor: Actor, customer: Customer, group: Group, valid_until=None
) -> Customer:
    """Add one group; with `valid_until` (a date) the membership ends by itself after that
    day (the scheduler removes it and logs it, see `patron.groups.schedule`)."""
    current = list(customer.groups.select_related("group_set"))
    if any(g.pk == group.pk for g in current):
        raise ValidationError({"groups": f"{customer.name} is already in “{group}”."})
    if valid_until is not None and valid_until < timezone.localdate():
        raise ValidationError(
            {"valid_until": "The last day of a membership cannot be in the past."}
        )
    with transaction.atomic():
        customer = customer_groups_set(actor=actor, customer=customer, groups=[*current, group])
        if valid_until is not None:
            GroupMembership.objects.filter(customer=customer, group=group).update(
                valid_until=valid_until
            )
    return customer


def customer_group_remove(*, actor: Actor, customer: Customer, group: Group) -> Customer:
    current = list(customer.groups.select_related("group_set"))
    if not any(g.pk == group.pk for g in current):
        raise ValidationError({"groups": f"{customer.name} is not in “{group}”."})
    return customer_groups_set(
        actor=actor, customer=customer, groups=[g for g in current if g.pk != group.pk]
    )


def customer_group_add_by_name(
    *, actor: Actor, customer: Customer, name: str, group_set: GroupSet | None = None
) -> Customer:
    """Add the group called `name`; create it first if it does not exist and
    the actor may create groups (typed-in group names, ORG-7)."""
    from patron.groups.services import group_create

    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Type the name of a group."})
    group = Group.objects.select_related("group_set").filter(name__iexact=name).first()
    if group is None:
        if not actor.has_perm("groups.add_group"):
            raise ValidationError(
                {"name": f"There is no group named “{name}”, and your role cannot create groups."}
            )
        group_set = group_set or GroupSet.objects.order_by("position", "pk").first()
        with transaction.atomic():
            group = group_create(actor=actor, data={"name": name, "group_set": group_set})
            return customer_group_add(actor=actor, customer=customer, group=group)
    return customer_group_add(actor=actor, customer=customer, group=group)
