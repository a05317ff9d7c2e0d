"""Writes for group sets and groups, keeping the tree paths and set rules true."""

from django.db import transaction
from django.db.models import Count, F, Value
from django.db.models.functions import Concat, Substr

from patron.core.actor import Actor
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


def group_delete_refusal(group: Group) -> str | None:
    """Why `group` cannot be deleted, or None when it can."""
    if group.was_used or group.memberships.exists():
        return f"“{group}” has had members, so it is kept for their history: archive it instead."
    if group.children.exists():
        return f"“{group}” has subgroups; delete or move them first."
    return None


def group_delete(*, actor: Actor, group: Group) -> None:
    """Delete a group that never had members; a used group can only be archived."""
    require_perm(actor, Group, "delete")
    with transaction.atomic():
        refusal = group_delete_refusal(group)
        if refusal:
            raise ValidationError(refusal)
        object_delete(actor=actor, instance=group)
