"""The tasks card on the customer overview: open tasks by due date."""

from patron.tasks.forms import TaskQuickForm
from patron.tasks.models import Task

TASKS_ON_OVERVIEW = 20


def overview_context(request, customer) -> dict:
    """Context for `tasks/_customer_tasks.html`; a fixed number of queries."""
    user = request.user
    tasks = list(
        Task.objects.restrict(user)
        .filter(customer=customer)
        .open()
        .select_related("department", "assignee")
        .by_due_date()[: TASKS_ON_OVERVIEW + 1]
    )
    can_add = user.has_perm("tasks.add_task")
    return {
        "tasks": tasks[:TASKS_ON_OVERVIEW],
        "tasks_more": len(tasks) > TASKS_ON_OVERVIEW,
        "can_change_task": user.has_perm("tasks.change_task"),
        "task_form": TaskQuickForm(user=user) if can_add else None,
    }
