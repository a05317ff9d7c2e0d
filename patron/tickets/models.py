"""Tickets: a customer's issue, worked by a department until it is closed."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Case, Value, When
from django.urls import reverse

from patron.core.models import PatronModel, RestrictedQuerySet
from patron.departments.routing import limit_to_visible_customers, mine_q

PRIORITY_ORDER = ("urgent", "high", "normal", "low")


class TicketQuerySet(RestrictedQuerySet):
    def restrict_rows(self, user, action):
        """Tickets on customers the user may see."""
        return limit_to_visible_customers(self, user)

    def open(self):
        """Open and pending tickets: everything not closed."""
        return self.exclude(status=Ticket.Status.CLOSED)

    def closed(self):
        return self.filter(status=Ticket.Status.CLOSED)

    def mine(self, user):
        """Assigned to `user` or routed to one of their departments."""
        return self.filter(mine_q(user))

    def by_urgency(self):
        """Urgent first, then high, normal, low; oldest first within a priority."""
        rank = Case(
            *(When(priority=p, then=Value(i)) for i, p in enumerate(PRIORITY_ORDER)),
            default=Value(len(PRIORITY_ORDER)),
        )
        return self.order_by(rank, "created", "id")

    def open_first(self):
        """Open and pending tickets first, newest first, then closed ones."""
        closed_last = Case(When(status="closed", then=Value(1)), default=Value(0))
        return self.order_by(closed_last, "-created", "-id")


class Ticket(PatronModel):
    """A customer's issue: subject, priority, status, routed to a department.

    Closed tickets leave the customer overview (unless asked for) and appear
    in the closed-ticket report.
    """

    class Priority(models.TextChoices):
        LOW = "low", "Low"
        NORMAL = "normal", "Normal"
        HIGH = "high", "High"
        URGENT = "urgent", "Urgent"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        PENDING = "pending", "Pending"
        CLOSED = "closed", "Closed"

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="tickets"
    )
    department = models.ForeignKey(
        "departments.Department",
        null=True,
        on_delete=models.SET_NULL,
        error_messages={
            "null": "Choose the department that works this ticket.",
            "blank": "Choose the department that works this ticket.",
        },
        related_name="tickets",
        help_text="The team that works the ticket.",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets_assigned",
    )
    subject = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    opened_by_label = models.CharField(max_length=200, blank=True, editable=False)
    closed_at = models.DateTimeField(null=True, blank=True, editable=False, db_index=True)
    closed_by_label = models.CharField(max_length=200, blank=True, editable=False)

    objects = TicketQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [
            models.Index(fields=["customer", "status"], name="ticket_customer_status"),
            models.Index(fields=["department", "status"], name="ticket_department_status"),
            models.Index(fields=["assignee", "status"], name="ticket_assignee_status"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.subject}" if self.pk else self.subject

    def get_absolute_url(self):
        return reverse("tickets:detail", args=[self.pk])

    def clean(self):
        self.subject = (self.subject or "").strip()
        errors = {}
        if not self.subject:
            errors["subject"] = "Give the ticket a subject."
        if errors:
            raise ValidationError(errors)

    def clean_fields(self, exclude=None):
        # clean() explains a missing subject; skip the generic message.
        exclude = set(exclude or ())
        if not (self.subject or "").strip():
            exclude.add("subject")
        super().clean_fields(exclude=exclude)

    @property
    def is_closed(self) -> bool:
        return self.status == self.Status.CLOSED

    @property
    def priority_colour(self) -> str:
        return {
            "low": "secondary",
            "normal": "info",
            "high": "warning",
            "urgent": "danger",
        }[self.priority]

    @property
    def status_colour(self) -> str:
        return {"open": "success", "pending": "warning", "closed": "secondary"}[self.status]


class TicketCommentQuerySet(RestrictedQuerySet):
    def restrict_rows(self, user, action):
        """Comments on tickets the user may see."""
        return self.filter(ticket__in=Ticket.objects.restrict_rows(user, "view"))


class TicketComment(models.Model):
    """One comment on a ticket, in the order they were written."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_label = models.CharField(max_length=200, blank=True)
    body = models.TextField("comment")
    created = models.DateTimeField(auto_now_add=True)

    objects = TicketCommentQuerySet.as_manager()

    class Meta:
        ordering = ["created", "id"]

    def __str__(self):
        return f"Comment #{self.pk} on ticket #{self.ticket_id}"

    def get_absolute_url(self):
        return reverse("tickets:detail", args=[self.ticket_id]) + f"#comment-{self.pk}"

    def clean_fields(self, exclude=None):
        # clean() explains an empty comment; skip the generic message.
        if not (self.body or "").strip():
            exclude = {*(exclude or ()), "body"}
        super().clean_fields(exclude=exclude)

    def clean(self):
        self.body = (self.body or "").strip()
        if not self.body:
            raise ValidationError({"body": "Write the comment."})
