"""An uploaded customer file, from its dry run to the job that applied it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse

from patron.core.models import RestrictedQuerySet


class CustomerImportQuerySet(RestrictedQuerySet):
    """People see the files they uploaded; `imports.view_customerimport` shows all.

    Uploading needs `customers.add_customer`, checked by the services.
    """

    owner_field = "uploaded_by"


class CustomerImport(models.Model):
    """One uploaded CSV or XLSX file of customers.

    The check job reads the file and stores its per-row errors here; the
    apply job writes every customer of the file in one transaction, or
    nothing. The file itself stays under the data directory until the
    import is applied.
    """

    class State(models.TextChoices):
        CHECKING = "checking", "Checking"
        INVALID = "invalid", "Has errors"
        READY = "ready", "Ready to apply"
        APPLIED = "applied", "Applied"

    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=200)
    original_name = models.CharField(max_length=255)
    file_format = models.CharField(max_length=4, choices=[("csv", "CSV"), ("xlsx", "Excel")])
    stored_name = models.CharField(max_length=100, editable=False)
    size = models.PositiveBigIntegerField(default=0)
    state = models.CharField(max_length=10, choices=State.choices, default=State.CHECKING)
    row_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(
        default=list, blank=True, help_text="The first errors: {row, column, message}."
    )
    preview = models.JSONField(default=list, blank=True, help_text="The first rows, as read.")
    created_count = models.PositiveIntegerField(default=0)
    check_job = models.ForeignKey(
        "jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    apply_job = models.ForeignKey(
        "jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)

    objects = CustomerImportQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name = "customer import"

    def __str__(self):
        return f"Import #{self.pk} ({self.original_name})"

    def get_absolute_url(self):
        return reverse("imports:detail", args=[self.pk])

    @property
    def path(self):
        from patron.imports.storage import storage_dir

        return storage_dir("imports") / self.stored_name
