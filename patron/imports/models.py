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

    class Mode(models.TextChoices):
        CREATE = "create", "Create only"
        UPDATE = "update", "Update existing"
        CREATE_OR_UPDATE = "create_or_update", "Create or update"

    class MatchOn(models.TextChoices):
        ACCOUNT_NUMBER = "account_number", "Account number"
        EXTERNAL_REFERENCE = "external_reference", "External reference"

    class OnError(models.TextChoices):
        ALL_OR_NOTHING = "all_or_nothing", "All or nothing"
        VALID_ROWS = "valid_rows", "Apply the valid rows"

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
    # The options, chosen at upload and changeable until the file is applied.
    mode = models.CharField(max_length=20, choices=Mode.choices, default=Mode.CREATE)
    match_on = models.CharField(
        max_length=20, choices=MatchOn.choices, default=MatchOn.ACCOUNT_NUMBER
    )
    on_error = models.CharField(
        max_length=20, choices=OnError.choices, default=OnError.ALL_OR_NOTHING
    )
    create_missing = models.BooleanField(
        default=False, help_text="Create the tags, groups, classes... the file names."
    )
    keep_invalid_phones = models.BooleanField(
        default=False, help_text="Keep a phone number that is not valid as written, unverified."
    )
    headers = models.JSONField(default=list, blank=True, help_text="The file's header row.")
    mapping = models.JSONField(
        default=dict, blank=True, help_text="The file's headers mapped to Patron's columns."
    )
    # What the dry run found (and the apply did).
    summary = models.JSONField(
        default=dict,
        blank=True,
        help_text="Counts: to_create, to_update, unchanged, rejected; missing names; notes.",
    )
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    rejected_count = models.PositiveIntegerField(default=0)
    rejected_name = models.CharField(max_length=100, blank=True, editable=False)
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

    @property
    def rejected_path(self):
        from patron.imports.storage import storage_dir

        return storage_dir("imports") / self.rejected_name if self.rejected_name else None


class ColumnMapping(models.Model):
    """How the headers of one kind of file map to Patron's columns, remembered.

    Files exported from the same old system have the same header row; the
    mapping a user chose for the first is offered for the next, keyed by the
    headers (normalised, in order). `mapping` maps each header as written to a
    Patron column name, or to "" for a column to ignore.
    """

    signature = models.CharField(max_length=64, unique=True)
    headers = models.JSONField(default=list)
    mapping = models.JSONField(default=dict)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by_label = models.CharField(max_length=200, blank=True)
    modified = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "import column mapping"

    def __str__(self):
        return f"Column mapping for {len(self.headers)} headers"
