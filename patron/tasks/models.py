"""Tasks on a customer: something a department (or one person in it) has to do."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F
from django.urls import reverse

from patron.core.models import PatronModel, RestrictedQuerySet
from patron.departments.routing import limit_to_visible_customers, mine_q


class TaskQuerySet(RestrictedQuerySet):
    def restrict_rows(self, user, action):
        """Tasks on customers the user may see."""
        return limit_to_visible_customers(self, user)

    def open(self):
        return self.filter(done=False)

    def mine(self, user):
        """Assigned to `user` or routed to one of their departments."""
        return self.filter(mine_q(user))

    def by_due_date(self):
        return self.order_by(F("due_date").asc(nulls_last=True), "created", "id")


class Task(PatronModel):
    """A job to do for a customer, routed to a department, with a due date and an assignee."""

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="tasks"
    )
    department = models.ForeignKey(
        "departments.Department",
        null=True,
        on_delete=models.SET_NULL,
        error_messages={
            "null": "Choose the department that does this task.",
            "blank": "Choose the department that does this task.",
        },
        related_name="tasks",
        help_text="The team that does it.",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tasks_assigned",
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    due_date = models.DateField(null=True, blank=True)
    done = models.BooleanField(default=False)
    done_at = models.DateTimeField(null=True, blank=True, editable=False)
    done_by_label = models.CharField(max_length=200, blank=True, editable=False)

    objects = TaskQuerySet.as_manager()

    class Meta:
        ordering = ["done", F("due_date").asc(nulls_last=True), "created", "id"]
        indexes = [
            models.Index(fields=["customer", "done"], name="task_customer_done"),
            models.Index(fields=["department", "done", "due_date"], name="task_department_open"),
            models.Index(fields=["assignee", "done"], name="task_assignee_open"),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("tasks:edit", args=[self.pk])

    def clean(self):
        self.title = (self.title or "").strip()
        errors = {}
        if not self.title:
            errors["title"] = "Say what has to be done."
        if errors:
            raise ValidationError(errors)

    def clean_fields(self, exclude=None):
        # clean() explains a missing title; skip the generic message.
        exclude = set(exclude or ())
        if not (self.title or "").strip():
            exclude.add("title")
        super().clean_fields(exclude=exclude)

    @property
    def is_overdue(self) -> bool:
        from django.utils import timezone

        return bool(not self.done and self.due_date and self.due_date < timezone.localdate())
