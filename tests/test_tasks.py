"""Tasks: routed to a department, with a due date, an assignee and a done state."""

import datetime

import pytest

from patron.core.actor import Actor
from patron.core.errors import ConflictError, PermissionDenied, ValidationError
from patron.events.models import Event
from patron.tasks import services
from patron.tasks.models import Task
from tests.factories import GroupFactory, TaskFactory, UserFactory
from tests.work_fixtures import *  # noqa: F403 (the shared fixtures)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("work_roles")]


def add_task(actor, customer, department, **data):
    return services.task_create(
        actor=actor,
        customer=customer,
        data={"department": department, "title": "Send the refund", **data},
    )


def test_task_is_created_and_logged_on_the_customer(bella_actor, bella, customer, billing):
    task = add_task(
        bella_actor, customer, billing, assignee=bella, due_date=datetime.date(2030, 1, 31)
    )
    assert (task.done, task.done_at, task.done_by_label) == (False, None, "")
    event = Event.objects.get(customer=customer)
    assert event.message == "Added task Send the refund for Billing"
    assert event.changes == {
        "customer": [None, "Ann Example (A000001)"],
        "department": [None, "Billing"],
        "assignee": [None, "bella"],
        "title": [None, "Send the refund"],
        "due_date": [None, "2030-01-31"],
    }


def test_marking_done_records_who_and_when_and_can_be_undone(bella_actor, customer, billing):
    task = add_task(bella_actor, customer, billing)
    task = services.task_done(actor=bella_actor, task=task)
    assert task.done is True
    assert task.done_by_label == "bella"
    assert task.done_at is not None
    task = services.task_done(actor=bella_actor, task=task, done=False)
    assert (task.done, task.done_at, task.done_by_label) == (False, None, "")
    assert list(
        Event.objects.filter(customer=customer).order_by("id").values_list("message", flat=True)
    ) == [
        "Added task Send the refund for Billing",
        "Marked task Send the refund done",
        "Marked task Send the refund not done",
    ]


def test_marking_a_done_task_done_again_changes_nothing(bella_actor, customer, billing):
    task = services.task_done(actor=bella_actor, task=add_task(bella_actor, customer, billing))
    again = services.task_done(actor=bella_actor, task=task)
    assert again.version == task.version
    assert Event.objects.filter(customer=customer).count() == 2


def test_task_needs_a_title_and_a_department(bella_actor, customer):
    with pytest.raises(ValidationError) as exc:
        services.task_create(actor=bella_actor, customer=customer, data={"title": ""})
    assert exc.value.message_dict == {
        "title": ["Say what has to be done."],
        "department": ["Choose the department that does this task."],
    }
    assert Task.objects.count() == 0


def test_task_for_a_department_the_user_cannot_see_is_refused(
    no_departments_user, customer, billing
):
    with pytest.raises(ValidationError) as exc:
        add_task(Actor(user=no_departments_user), customer, billing)
    assert exc.value.message_dict == {"department": ["Choose one of the departments you can see."]}
    assert Task.objects.count() == 0


def test_task_cannot_be_assigned_to_someone_who_cannot_sign_in(bella_actor, customer, billing):
    gone = UserFactory(username="gone", is_active=False)
    with pytest.raises(ValidationError) as exc:
        add_task(bella_actor, customer, billing, assignee=gone)
    assert exc.value.message_dict == {
        "assignee": ["gone can no longer sign in; choose someone else."]
    }
    assert Task.objects.count() == 0


def test_readonly_cannot_add_or_finish_tasks(readonly, customer, billing):
    task = TaskFactory(customer=customer, department=billing)
    with pytest.raises(PermissionDenied):
        add_task(Actor(user=readonly), customer, billing)
    with pytest.raises(PermissionDenied):
        services.task_done(actor=Actor(user=readonly), task=task)
    task.refresh_from_db()
    assert task.done is False
    assert Task.objects.count() == 1
    assert Event.objects.count() == 0


def test_update_changes_fields_and_refuses_a_stale_version(bella_actor, customer, billing, support):
    task = add_task(bella_actor, customer, billing)
    task = services.task_update(
        actor=bella_actor, task=task, data={"department": support}, expected_version=1
    )
    assert task.department == support
    with pytest.raises(ConflictError):
        services.task_update(actor=bella_actor, task=task, data={"title": "x"}, expected_version=1)
    event = Event.objects.filter(action="updated").get()
    assert event.changes == {"department": ["Billing", "Technical support"]}


def test_mine_is_assigned_to_me_or_to_my_departments(bella, customer, billing, support):
    mine = TaskFactory(customer=customer, department=support, assignee=bella)
    departments = TaskFactory(customer=customer, department=billing)
    TaskFactory(customer=customer, department=support)
    assert set(Task.objects.mine(bella)) == {mine, departments}


def test_tasks_follow_the_customer_group_restriction(staff, customer, billing):
    TaskFactory(customer=customer, department=billing)
    staff.restricted_groups.add(GroupFactory())
    assert list(Task.objects.restrict(staff)) == []


def test_open_tasks_are_ordered_by_due_date_with_undated_last(customer, billing):
    late = TaskFactory(customer=customer, department=billing, due_date=datetime.date(2030, 5, 1))
    undated = TaskFactory(customer=customer, department=billing)
    soon = TaskFactory(customer=customer, department=billing, due_date=datetime.date(2030, 1, 1))
    assert list(Task.objects.open().by_due_date()) == [soon, late, undated]
