"""Writes for tasks: add, edit, mark done (or not done again). All in the event log."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from patron.core.actor import Actor
from patron.core.errors import ValidationError
from patron.core.services import object_create, object_update, require_perm
from patron.departments.routing import check_customer, check_department, check_person
from patron.tasks.models import Task

TASK_FIELDS = ("department", "assignee", "title", "description", "due_date", "done")


def _check_fields(data: dict) -> None:
    unknown = set(data) - set(TASK_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown task fields: {', '.join(sorted(unknown))}.")


def _done_values(actor: Actor, done: bool) -> dict:
    if done:
        return {"done": True, "done_at": timezone.now(), "done_by_label": actor.label[:200]}
    return {"done": False, "done_at": None, "done_by_label": ""}


def task_create(*, actor: Actor, customer, data: dict) -> Task:
    """Add a task to `customer` for a department (and optionally one person in it)."""
    require_perm(actor, Task, "add")
    _check_fields(data)
    check_customer(actor, customer)
    data = dict(data)
    done = bool(data.pop("done", False))
    task = Task(customer=customer, **data, **(_done_values(actor, done) if done else {}))
    check_department(actor, task.department)
    check_person(task.assignee, "assignee")
    with transaction.atomic():
        return object_create(
            actor=actor,
            instance=task,
            customer=customer,
            message=f"Added task {task} for {task.department}",
        )


def task_update(
    *, actor: Actor, task: Task, data: dict, expected_version: int | None = None
) -> Task:
    """Change a task; setting `done` records who finished it and when."""
    require_perm(actor, Task, "change")
    _check_fields(data)
    data = dict(data)
    if "department" in data and data["department"] != task.department:
        check_department(actor, data["department"])
    if "assignee" in data and data["assignee"] != task.assignee:
        check_person(data["assignee"], "assignee")
    if "done" in data and bool(data["done"]) != task.done:
        data.update(_done_values(actor, bool(data["done"])))
    elif "done" in data:
        data.pop("done")
    message = f"Changed task {task}"
    if data.get("done") is True:
        message = f"Marked task {task} done"
    elif data.get("done") is False:
        message = f"Marked task {task} not done"
    return object_update(
        actor=actor,
        instance=task,
        data=data,
        expected_version=expected_version,
        customer=task.customer,
        message=message,
    )


def task_done(
    *, actor: Actor, task: Task, done: bool = True, expected_version: int | None = None
) -> Task:
    """Mark a task done, or not done again."""
    return task_update(
        actor=actor, task=task, data={"done": done}, expected_version=expected_version
    )
