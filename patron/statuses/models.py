"""Customer statuses: where an account stands and how it is billed."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse

from patron.core.fields import DisplayClassField, check_unique_name
from patron.core.models import PatronModel, RestrictedQuerySet


class StatusQuerySet(RestrictedQuerySet):
    def assignable(self):
        """Statuses that may be newly given to a customer, headline ones first."""
        return self.exclude(availability=Status.Availability.HISTORICAL).filter(
            visible_in_backend=True
        )


class Status(PatronModel):
    """A customer status (Active, Suspended, Ceased...) with every behaviour flag."""

    class Availability(models.TextChoices):
        HEADLINE = "headline", "Headline"
        STANDARD = "standard", "Standard"
        HISTORICAL = "historical", "Historical"

    # Name and display
    name = models.CharField(max_length=100)
    short_name = models.CharField(max_length=20, blank=True)
    availability = models.CharField(
        max_length=12,
        choices=Availability.choices,
        default=Availability.STANDARD,
        help_text="Headline statuses are offered first; historical ones cannot be newly assigned.",
    )
    display_class = DisplayClassField()
    position = models.PositiveIntegerField(default=100)
    # State and access
    is_active = models.BooleanField(default=True, help_text="Customers are considered active.")
    is_suspended = models.BooleanField(
        default=False, help_text="Customers are treated as suspended."
    )
    crm_only = models.BooleanField(
        default=False, help_text="Prospect records: left out of billing, messaging and reports."
    )
    portal_login = models.BooleanField(
        "has frontend login access", default=True, help_text="Contacts may log in to the portal."
    )
    next_status = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    next_status_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Days after which customers move on to the next status."
    )
    related_service_status = models.CharField(max_length=50, blank=True)
    related_number_status = models.CharField(max_length=50, blank=True)
    related_feature_status = models.CharField(max_length=50, blank=True)
    visible_in_backend = models.BooleanField(
        default=True, help_text="Shown in status pickers, filters and reports."
    )
    # Billing
    billable = models.BooleanField(default=True)
    send_correspondence = models.BooleanField(default=True)
    override_invoice_message = models.TextField(blank=True)
    ignore_invoice_thresholds = models.BooleanField(default=False)
    can_have_calls = models.BooleanField(default=True)
    can_have_fixed_charges = models.BooleanField(default=True)
    process_automatic_payments = models.BooleanField(default=True)
    # Final bill
    final_invoice = models.BooleanField(default=False)
    final_ignore_cutoff_date = models.BooleanField("ignore cutoff date", default=False)
    final_ignore_billable_status = models.BooleanField("ignore billable status", default=False)
    final_calls_ignore_cutoff_date = models.BooleanField(
        "ignore cutoff date (calls)", default=False
    )
    final_calls_ignore_billable_status = models.BooleanField(
        "ignore billable status (calls)", default=False
    )
    # Update requirements
    require_reason = models.BooleanField(
        "require status reason", default=False, help_text="A reason must be given."
    )
    require_date = models.BooleanField(
        "require updated date", default=False, help_text="An effective date must be given."
    )

    objects = StatusQuerySet.as_manager()

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "statuses"
        constraints = [models.UniqueConstraint(Lower("name"), name="status_name_ci_unique")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("statuses:edit", args=[self.pk])

    @property
    def is_assignable(self) -> bool:
        return self.availability != self.Availability.HISTORICAL and self.visible_in_backend

    def clean(self):
        self.name = (self.name or "").strip()
        check_unique_name(self, label="status")
        if self.next_status_id and self.pk and self.next_status_id == self.pk:
            raise ValidationError({"next_status": "A status cannot progress to itself."})
        if self.next_status_id and not self.next_status_days:
            raise ValidationError(
                {"next_status_days": "Say after how many days customers move to the next status."}
            )
        if self.next_status_days and not self.next_status_id:
            raise ValidationError({"next_status": "Choose the status customers move on to."})
        loop = self.progression_loop()
        if loop:
            raise ValidationError(
                {
                    "next_status": (
                        "This would make a loop: "
                        + " → ".join(loop)
                        + ". Customers would move round it for ever; end the chain "
                        "with a status that has no next status."
                    )
                }
            )

    def progression_loop(self) -> list[str]:
        """The names along the chain of next statuses if it comes back to this
        status (A → B → A), else []. One query, whatever the chain's length.

        Only a status already saved can be in a loop: nothing points to a new one.
        """
        if not self.pk or not self.next_status_id:
            return []
        chain = {
            pk: (name, next_pk)
            for pk, name, next_pk in Status.objects.exclude(pk=self.pk).values_list(
                "pk", "name", "next_status_id"
            )
        }
        names = [self.name]
        seen = {self.pk}
        current = self.next_status_id
        while current is not None and current in chain and current not in seen:
            seen.add(current)
            name, current = chain[current]
            names.append(name)
        if current == self.pk:
            return [*names, self.name]
        return []


class StatusReason(models.Model):
    """A reason staff can pick when they change a customer to this status
    ("Three invoices unpaid"); edited on the status's page, one per line."""

    status = models.ForeignKey(Status, on_delete=models.CASCADE, related_name="reasons")
    text = models.CharField(max_length=200)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["status", "position", "id"]
        constraints = [
            models.UniqueConstraint("status", Lower("text"), name="status_reason_text_ci_unique")
        ]

    def __str__(self):
        return self.text
