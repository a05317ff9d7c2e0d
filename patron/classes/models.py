"""Customer classes: data-protection and verification categories."""

from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse

from patron.core.fields import check_unique_name
from patron.core.models import PatronModel


class CustomerClass(PatronModel):
    """One per customer: how long personal data is kept after the account ends,
    and whether the customer's identity must be verified."""

    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    retention_days = models.PositiveIntegerField(
        default=2190,
        help_text="Days personal data is kept after the account ends (2190 = six years).",
    )
    verification_required = models.BooleanField(
        default=False, help_text="Identity must be verified before the account is activated."
    )
    position = models.PositiveIntegerField(default=100)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = "customer class"
        verbose_name_plural = "customer classes"
        constraints = [models.UniqueConstraint(Lower("name"), name="class_name_ci_unique")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("classes:edit", args=[self.pk])

    def clean(self):
        self.name = (self.name or "").strip()
        check_unique_name(self, label="customer class")
