"""The event log: one row per change to a customer or a configuration object."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import CharField, Exists, OuterRef, Q
from django.db.models.functions import Cast

from patron.core.models import RestrictedQuerySet


class EventQuerySet(RestrictedQuerySet):
    def restrict_rows(self, user, action):
        # Events about a customer follow the customer's visibility; events
        # about configuration follow the model permission alone.
        from patron.customers.models import Customer

        events = self.without_private_note_text(user)
        if not getattr(user, "has_customer_restriction", False):
            return events
        visible = Customer.objects.restrict_rows(user, "view").filter(pk=OuterRef("customer_id"))
        return events.filter(Q(customer__isnull=True) | Exists(visible))

    def without_private_note_text(self, user):
        """Leave out events that carry the text of a note `user` may not read.

        Notes log no text while private, but a note written in the open and made
        private later has its earlier text in the events of that time. For
        anyone outside its department those events are gone; the events without
        text ("Changed a private note for Billing") stay.
        """
        from patron.notes.models import Note

        if getattr(user, "is_owner", False):
            return self
        unreadable = (
            Note.objects.unreadable_by(user)
            .annotate(key=Cast("pk", output_field=CharField()))
            .filter(key=OuterRef("object_id"))
        )
        note_type = ContentType.objects.get_for_model(Note)
        return self.exclude(Q(object_type=note_type, changes__has_key="body") & Exists(unreadable))

    def for_customer(self, customer):
        return self.filter(customer=customer)


class Event(models.Model):
    """A change, with who made it, what changed (before and after), when and why.

    `customer` is the account the change belongs to, so a change to a contact
    shows in its customer's log. `object_type`/`object_id` name the object
    that changed itself.
    """

    class ActorKind(models.TextChoices):
        USER = "user", "User"
        TOKEN = "token", "API token"
        SYSTEM = "system", "System"

    created = models.DateTimeField(db_index=True)
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices)
    # The log is append-only and written by one path (patron.core.audit and the
    # bulk statements in patron.bulk.sql), which takes every id below from a
    # row it has just read. So its links carry no database constraint: a bulk
    # action writes 200,000 events in one transaction, and each constraint
    # would cost a lookup per event at commit. Django still applies on_delete.
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )
    actor_token = models.ForeignKey(
        "accounts.ApiToken",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    actor_label = models.CharField(max_length=200)
    action = models.CharField(max_length=40)
    object_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False
    )
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=200)
    customer = models.ForeignKey(
        "customers.Customer",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="events",
        db_index=False,
        db_constraint=False,
    )
    message = models.CharField(max_length=300, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    reason = models.TextField(blank=True)

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [
            models.Index(fields=["customer", "-created", "-id"], name="event_customer_recent"),
            models.Index(fields=["object_type", "object_id"], name="event_object"),
            models.Index(fields=["action"], name="event_action"),
            models.Index(
                fields=["actor_token"],
                condition=models.Q(actor_token__isnull=False),
                name="event_actor_token",
            ),
        ]

    def __str__(self):
        return f"{self.created:%Y-%m-%d %H:%M} {self.actor_label}: {self.message or self.action}"

    @property
    def change_rows(self):
        """(field, before, after) triples for display."""
        return [(field, pair[0], pair[1]) for field, pair in self.changes.items()]
