"""Writes for group sets and groups, keeping the tree paths and set rules true.

Also the typed-name box of the customer overview: `customer_group_add_typed`
adds a customer to a group by name (creating it in a chosen set) and, in a
single-choice set, moves the customer instead of refusing when asked
(`customer_group_move`).
"""

import re
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, F, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone

from patron.core.actor import Actor, who_or_system
from patron.core.errors import ValidationError
from patron.core.services import (
    object_create,
    object_delete,
    object_update,
    require_perm,
    simple_create,
    simple_delete,
    simple_update,
)
from patron.groups.models import Group, GroupSet


def group_set_create(*, actor: Actor, data: dict) -> GroupSet:
    return simple_create(actor=actor, model=GroupSet, data=data)


def group_set_update(
    *, actor: Actor, group_set: GroupSet, data: dict, expected_version: int | None = None
) -> GroupSet:
    """Rename or re-rule a set. Turning it single-choice is refused while any
    customer holds two of its groups (the error names how many)."""
    from patron.customers.models import GroupMembership

    require_perm(actor, GroupSet, "change")
    with transaction.atomic():
        # The stored row, not the caller's copy (a bound form has already set its fields).
        stored = GroupSet.objects.select_for_update().get(pk=group_set.pk)
        if data.get("single_choice") and not stored.single_choice:
            clashes = (
                GroupMembership.objects.filter(group_set=group_set)
                .values("customer_id")
                .annotate(n=Count("id"))
                .filter(n__gt=1)
                .count()
            )
            if clashes:
                raise ValidationError(
                    {
                        "single_choice": f"{clashes} customer(s) are in more than one group of "
                        f"“{group_set}”; leave each in one group before making it single-choice."
                    }
                )
        updated = simple_update(
            actor=actor, instance=group_set, data=data, expected_version=expected_version
        )
        GroupMembership.objects.filter(group_set=updated).exclude(
            exclusive=updated.single_choice
        ).update(exclusive=updated.single_choice)
    return updated


def group_set_delete_refusal(group_set: GroupSet) -> str | None:
    """Why `group_set` cannot be deleted, or None when it can."""
    count = group_set.groups.count()
    if count:
        return f"“{group_set}” still has {count} group(s); delete or move them first."
    return None


def group_set_delete(*, actor: Actor, group_set: GroupSet) -> None:
    """Delete an empty set; a set that still has groups is refused."""
    require_perm(actor, GroupSet, "delete")
    with transaction.atomic():
        refusal = group_set_delete_refusal(group_set)
        if refusal:
            raise ValidationError(refusal)
        simple_delete(actor=actor, instance=group_set)


def set_group_path(group: Group) -> None:
    """Store `group`'s materialised path ("/1/7/") and depth, from its parent's path."""
    parent_path = group.parent.path if group.parent_id else "/"
    group.path = f"{parent_path}{group.pk}/"
    group.depth = group.path.count("/") - 2
    Group.objects.filter(pk=group.pk).update(path=group.path, depth=group.depth)


def group_create(*, actor: Actor, data: dict) -> Group:
    """Create a group; without a set it joins its parent's set."""
    require_perm(actor, Group, "add")
    data = dict(data)
    if data.get("parent") is not None and data.get("group_set") is None:
        data["group_set"] = data["parent"].group_set
    with transaction.atomic():
        group = object_create(actor=actor, instance=Group(**data))
        set_group_path(group)
        _check_dynamic(group)
    return group


def _check_dynamic(group: Group) -> None:
    """Refuse a dynamic group whose segment cannot run as the group's membership,
    e.g. one that names the group itself; call inside the write's transaction."""
    if group.segment_id is None:
        return
    from patron.groups.dynamic import group_query
    from patron.segments.language import SegmentError, compile_segment

    try:
        compile_segment(group_query(group), user=None)
    except SegmentError as exc:
        raise ValidationError({"segment": exc.message}) from exc


def group_update(
    *, actor: Actor, group: Group, data: dict, expected_version: int | None = None
) -> Group:
    """Change a group; moving it (new parent) moves its whole subtree with it.

    Moving to another set takes the subgroups along, and is refused while the
    group or any subgroup has members (their memberships belong to the set).
    """
    from patron.customers.models import GroupMembership

    require_perm(actor, Group, "change")
    with transaction.atomic():
        # The stored row, not the caller's copy (a bound form has already set its fields).
        stored = Group.objects.select_for_update().get(pk=group.pk)
        moving_set = "group_set" in data and data["group_set"].pk != stored.group_set_id
        if moving_set:
            subtree = Group.objects.subtree_of(stored)
            if GroupMembership.objects.filter(group__in=subtree).exists():
                raise ValidationError(
                    {"group_set": "A group with members cannot move to another group set."}
                )
        old_path = stored.path
        updated = object_update(
            actor=actor, instance=group, data=data, expected_version=expected_version
        )
        if moving_set:
            Group.objects.filter(path__startswith=old_path).exclude(pk=updated.pk).update(
                group_set=updated.group_set
            )
        if "parent" in data:
            set_group_path(updated)
            if updated.path != old_path:
                # Rewrite the prefix of every descendant in one statement.
                Group.objects.filter(path__startswith=old_path).exclude(pk=updated.pk).update(
                    path=Concat(Value(updated.path), Substr(F("path"), len(old_path) + 1)),
                    depth=F("depth") + (updated.depth - old_path.count("/") + 2),
                )
        _check_dynamic(updated)
    return updated


def group_archive(*, actor: Actor, group: Group, archived: bool = True) -> Group:
    """Archive (or restore) a group: it stays on its members but is no longer offered."""
    require_perm(actor, Group, "change")
    return object_update(
        actor=actor,
        instance=group,
        data={"archived": archived},
        action="archived" if archived else "restored",
        message=f"{'Archived' if archived else 'Restored'} group {group}",
    )


# ORG-8: apps whose records name groups (a service's allowed groups; invoices, payments and
# cashback later) add a check from their ready(): `guard(group)` returns why the group must
# be kept (archived or renamed, never deleted), or None.
delete_guards: list = []


def group_delete_refusal(group: Group) -> str | None:
    """Why `group` cannot be deleted, or None when it can."""
    if group.was_used or group.memberships.exists():
        return f"“{group}” has had members, so it is kept for their history: archive it instead."
    if group.children.exists():
        return f"“{group}” has subgroups; delete or move them first."
    for guard in delete_guards:
        refusal = guard(group)
        if refusal:
            return refusal
    return None


def group_delete(*, actor: Actor, group: Group) -> None:
    """Delete a group that never had members; a used group can only be archived."""
    require_perm(actor, Group, "delete")
    with transaction.atomic():
        refusal = group_delete_refusal(group)
        if refusal:
            raise ValidationError(refusal)
        object_delete(actor=actor, instance=group)


# --- typed group names on a customer, and moves within a single-choice set (#15 item 9) ---


def new_group_sets(user):
    """The sets a typed new group may be created in: those `user` may see (all for the system)."""
    sets = GroupSet.objects.restrict(who_or_system(user))
    return sets.order_by("position", "name", "pk")


def default_new_group_set(sets) -> GroupSet | None:
    """The first multiple-choice set (a new group there never clashes), else the first set."""
    sets = list(sets)
    return next((s for s in sets if not s.single_choice), sets[0] if sets else None)


def group_suggestions(user, exclude=()) -> list[str]:
    """What the typed-name box suggests: "Leeds (Region)" for every group the user may
    give by hand (not archived, not dynamic), less `exclude` (the groups already held)."""
    groups = Group.objects.restrict(user).active().filter(segment__isnull=True)
    rows = groups.exclude(pk__in=[g.pk for g in exclude]).values_list("name", "group_set__name")
    return [f"{name} ({set_name})" for name, set_name in rows]


SUGGESTION = re.compile(r"(?P<name>.*\S)\s*\((?P<set>[^()]+)\)")


@dataclass
class TypedGroup:
    """What a group name typed on a customer means.

    `group` is the existing group (None: `name` is a new group to create in
    `group_set`). `held` is the group the customer already has in that set
    when the set is single-choice: adding then means moving from `held`.
    """

    name: str
    group: Group | None
    group_set: GroupSet
    held: Group | None = None

    @property
    def is_new(self) -> bool:
        return self.group is None

    @property
    def move_question(self) -> str:
        target = f"a new group “{self.name}”" if self.is_new else f"“{self.name}”"
        return f"Move from “{self.held}” to {target} in “{self.group_set}” instead?"


class MoveOffered(ValidationError):
    """Adding breaks a single-choice set the customer is in; `typed.held` would be replaced.

    The message is the rule's usual one ("… is already in “Gold” of the
    single-choice set …"); a page offers the move (`move=True`) beside it.
    """

    def __init__(self, message, typed: TypedGroup):
        super().__init__(message)
        self.typed = typed


def typed_group(*, actor: Actor, customer, name: str, group_set: GroupSet | None = None):
    """Read what `name` means for `customer`; changes nothing.

    `name` is a group's name in any case, or a suggestion "Leeds (Region)".
    A name no group has is a new group in `group_set` (default: see
    `default_new_group_set`), which the actor's role must allow creating.
    """
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Type the name of a group."})
    groups = Group.objects.select_related("group_set")
    group = groups.filter(name__iexact=name).first()
    if group is None and (match := SUGGESTION.fullmatch(name)):
        group = groups.filter(
            name__iexact=match["name"], group_set__name__iexact=match["set"].strip()
        ).first()
    if group is None:
        if not actor.has_perm("groups.add_group"):
            raise ValidationError(
                {"name": f"There is no group named “{name}”, and your role cannot create groups."}
            )
        sets = new_group_sets(actor.user)
        if group_set is None:
            group_set = default_new_group_set(sets)
        elif not sets.filter(pk=group_set.pk).exists():
            group_set = None
        if group_set is None:
            raise ValidationError({"group_set": "Choose a group set for the new group."})
        typed = TypedGroup(name=name, group=None, group_set=group_set)
    else:
        typed = TypedGroup(name=group.name, group=group, group_set=group.group_set)
    usable = typed.is_new or (not typed.group.archived and typed.group.segment_id is None)
    if typed.group_set.single_choice and usable:
        held = customer.groups.filter(group_set=typed.group_set)
        if typed.group is not None:
            held = held.exclude(pk=typed.group.pk)
        typed.held = held.first()
    return typed


def customer_group_add_typed(
    *,
    actor: Actor,
    customer,
    name: str,
    group_set: GroupSet | None = None,
    move: bool = False,
    valid_from=None,
    valid_until=None,
):
    """Add the customer to the group called `name`, creating it in `group_set` when it
    does not exist (the typed-name box of the overview, ORG-7).

    In a single-choice set where the customer already has another group, the
    add is refused with `MoveOffered` unless `move` is true: then the customer
    leaves that group and joins this one in one change, logged as one event
    ("Moved from Gold to Platinum in Customer group"). A `valid_from` after
    today schedules the membership as before (a move happens now).
    """
    from patron.customers.services.groups import customer_group_add

    typed = typed_group(actor=actor, customer=customer, name=name, group_set=group_set)
    later = valid_from is not None and valid_from > timezone.localdate()
    if typed.held is not None and not later and not move:
        raise MoveOffered(
            {
                "groups": f"{customer.name} is already in “{typed.held}” of the single-choice "
                f"set “{typed.group_set}”; remove it before adding “{typed.name}”."
            },
            typed,
        )
    if typed.held is not None and later and move:
        raise _later_move(typed.held, typed.name)
    with transaction.atomic():
        group = typed.group or group_create(
            actor=actor, data={"name": typed.name, "group_set": typed.group_set}
        )
        if move:
            return customer_group_move(
                actor=actor,
                customer=customer,
                group=group,
                valid_from=valid_from,
                valid_until=valid_until,
            )
        return customer_group_add(
            actor=actor,
            customer=customer,
            group=group,
            valid_from=valid_from,
            valid_until=valid_until,
        )


def _later_move(held, name) -> ValidationError:
    return ValidationError(
        {
            "valid_from": f"A move happens at once; leave From empty, or give “{held}” "
            f"an end date and add “{name}” from the day after."
        }
    )


def customer_group_move(*, actor: Actor, customer, group: Group, valid_from=None, valid_until=None):
    """Put the customer in `group` in place of the group it holds in the same
    single-choice set: one membership change, one event ("Moved from X to Y in Set").

    A customer with no group in that set (or a multiple-choice set) simply
    joins `group` (`customer_group_add`, so a later `valid_from` schedules
    it); a move itself happens now, so a later `valid_from` is refused then.
    Every other rule still holds (payment groups, archived and dynamic
    groups), with the usual messages.
    """
    from patron.customers.models import Customer, GroupMembership
    from patron.customers.services.groups import customer_group_add, customer_groups_set

    require_perm(actor, Customer, "change")
    today = timezone.localdate()
    if valid_until is not None and valid_until < today:
        raise ValidationError(
            {"valid_until": "The last day of a membership cannot be in the past."}
        )
    later = valid_from is not None and valid_from > today
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        current = list(locked.groups.select_related("group_set"))
        if any(g.pk == group.pk for g in current):
            raise ValidationError({"groups": f"{locked.name} is already in “{group}”."})
        group_set = group.group_set
        old = next(
            (g for g in current if group_set.single_choice and g.group_set_id == group_set.pk),
            None,
        )
        if old is None:
            return customer_group_add(
                actor=actor,
                customer=locked,
                group=group,
                valid_from=valid_from,
                valid_until=valid_until,
            )
        if later:
            raise _later_move(old, group)
        until = f" (until {valid_until.isoformat()})" if valid_until else ""
        locked = customer_groups_set(
            actor=actor,
            customer=locked,
            groups=[*(g for g in current if g.pk != old.pk), group],
            message=f"Moved from {old.name} to {group.name} in {group_set.name}{until}",
        )
        if valid_until is not None:
            GroupMembership.objects.filter(customer=locked, group=group).update(
                valid_until=valid_until
            )
    return locked
