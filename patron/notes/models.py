"""Notes on a customer, routed to a department and optionally to one person."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse

from patron.core.models import PatronModel, RestrictedQuerySet
from patron.departments.routing import limit_to_visible_customers, member_departments


class NoteQuerySet(RestrictedQuerySet):
    def restrict_rows(self, user, action):
        """Notes on customers the user may see; private ones only for members and Owners."""
        return limit_to_visible_customers(self, user).readable_by(user)

    def readable_by(self, user):
        if getattr(user, "is_owner", False):
            return self
        return self.filter(
            Q(private_to_department=False) | Q(department__in=member_departments(user))
        )

    def unreadable_by(self, user):
        """Private notes `user` may not read (the complement of `readable_by`)."""
        if getattr(user, "is_owner", False):
            return self.none()
        private = self.filter(private_to_department=True)
        if user is None or not user.is_authenticated:
            return private
        return private.exclude(department__in=member_departments(user))

    def for_overview(self):
        return self.select_related("department", "addressed_to").order_by(
            "-pinned", "-created", "-id"
        )


class Note(PatronModel):
    """A note on a customer's account, for a department and optionally one person.

    A note private to its department is readable only by that department's
    members and Owners: its text never appears in the event log, and anyone
    else gets a 404 for it.
    """

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="routed_notes"
    )
    department = models.ForeignKey(
        "departments.Department",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="notes",
        help_text="The team this note is for.",
    )
    addressed_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="notes_addressed",
        help_text="One person who should read it.",
    )
    body = models.TextField("note")
    pinned = models.BooleanField(default=False, help_text="Pinned notes stay at the top.")
    private_to_department = models.BooleanField(
        "private to the department",
        default=False,
        help_text="Only members of the department (and Owners) can read it.",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    author_label = models.CharField(max_length=200, blank=True, editable=False)

    objects = NoteQuerySet.as_manager()

    class Meta:
        ordering = ["-pinned", "-created", "-id"]
        indexes = [
            models.Index(fields=["customer", "-pinned", "-created"], name="note_customer_recent"),
            models.Index(fields=["department", "-created"], name="note_department_recent"),
        ]

    def __str__(self):
        # Never the text: this is what the event log and error messages show.
        return f"Note #{self.pk}" if self.pk else "New note"

    def get_absolute_url(self):
        return reverse("customers:detail", args=[self.customer_id]) + f"#note-{self.pk}"

    def clean_fields(self, exclude=None):
        # clean() explains an empty note; skip the generic message.
        if not (self.body or "").strip():
            exclude = {*(exclude or ()), "body"}
        super().clean_fields(exclude=exclude)

    def clean(self):
        self.body = (self.body or "").strip()
        errors = {}
        if not self.body:
            errors["body"] = "Write the note."
        if self.private_to_department and self.department_id is None:
            errors["department"] = "Choose the department this private note is for."
        if errors:
            raise ValidationError(errors)

    @property
    def routing_label(self) -> str:
        """'a note for Billing', 'a private note for Billing', 'a note'."""
        kind = "a private note" if self.private_to_department else "a note"
        return f"{kind} for {self.department}" if self.department_id else kind
