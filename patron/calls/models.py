"""Call logs: a record of each phone call with a customer."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone

from patron.core.models import PatronModel, RestrictedQuerySet


class CallLogQuerySet(RestrictedQuerySet):
    def restrict_rows(self, user, action):
        # Calls follow their customer's visibility (customers restricted to groups).
        from patron.customers.models import Customer

        return self.filter(customer__in=Customer.objects.restrict_rows(user, "view"))


def format_duration(seconds: int | None) -> str:
    """Seconds as m:ss (or h:mm:ss for an hour or more)."""
    seconds = int(seconds or 0)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


class CallLog(PatronModel):
    """One call: who called whom, when, how long, what was said and how it ended."""

    class Direction(models.TextChoices):
        INBOUND = "in", "Inbound"
        OUTBOUND = "out", "Outbound"

    class Outcome(models.TextChoices):
        RESOLVED = "resolved", "Resolved"
        FOLLOW_UP = "follow_up", "Follow-up needed"
        NO_ANSWER = "no_answer", "No answer"
        VOICEMAIL = "voicemail", "Voicemail"
        OTHER = "other", "Other"

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="call_logs"
    )
    direction = models.CharField(max_length=3, choices=Direction.choices, default=Direction.INBOUND)
    contact = models.ForeignKey(
        "customers.Contact",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="call_logs",
        help_text="The person on the customer's side, if known.",
    )
    staff_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="call_logs",
        verbose_name="staff member",
    )
    started_at = models.DateTimeField("started", default=timezone.now)
    duration = models.PositiveIntegerField(default=0, help_text="Length of the call in seconds.")
    summary = models.TextField(blank=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, default=Outcome.RESOLVED)

    objects = CallLogQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = "call log"
        indexes = [models.Index(fields=["customer", "-started_at"], name="calllog_customer_recent")]

    def __str__(self):
        when = timezone.localtime(self.started_at).strftime("%-d %b %Y %H:%M")
        return f"{self.get_direction_display()} call {when}"

    def get_absolute_url(self):
        return reverse("calls:edit", args=[self.pk])

    @property
    def duration_display(self) -> str:
        return format_duration(self.duration)

    def clean(self):
        if self.contact_id and self.customer_id and self.contact.customer_id != self.customer_id:
            raise ValidationError({"contact": "This contact belongs to another customer."})
