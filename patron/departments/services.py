"""Writes for departments and their members."""

from django.db import transaction

from patron.core import audit
from patron.core.actor import Actor
from patron.core.services import (
    object_touch,
    require_perm,
    simple_create,
    simple_delete,
    simple_update,
)
from patron.departments.models import Department


def department_create(*, actor: Actor, data: dict, members=None) -> Department:
    with transaction.atomic():
        department = simple_create(actor=actor, model=Department, data=data)
        if members:
            department_set_members(actor=actor, department=department, members=members)
    return department


def department_update(
    *,
    actor: Actor,
    department: Department,
    data: dict,
    members=None,
    expected_version: int | None = None,
) -> Department:
    with transaction.atomic():
        department = simple_update(
            actor=actor, instance=department, data=data, expected_version=expected_version
        )
        if members is not None:
            department_set_members(actor=actor, department=department, members=members)
    return department


def department_set_members(*, actor: Actor, department: Department, members) -> None:
    require_perm(actor, Department, "change")
    before = audit.display_value(department, "members")
    department.members.set(members)
    after = audit.display_value(department, "members")
    if before != after:
        object_touch(department)
        audit.record(
            actor=actor,
            action="members_changed",
            obj=department,
            changes={"members": [before, after]},
            message=f"Changed members of department {department}",
        )


def department_delete(*, actor: Actor, department: Department) -> None:
    simple_delete(actor=actor, instance=department)
