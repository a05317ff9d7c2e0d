"""Departments: teams that notes, tickets and tasks are routed to."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse

from patron.core.fields import check_unique_name
from patron.core.models import PatronModel


class Department(PatronModel):
    """A team in the organisation (Billing, Technical support, Sales)."""

    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    email = models.EmailField(blank=True, help_text="Shared mailbox of the team, if any.")
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="departments"
    )

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("name"), name="department_name_ci_unique")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("departments:edit", args=[self.pk])

    def clean(self):
        self.name = (self.name or "").strip()
        check_unique_name(self)
