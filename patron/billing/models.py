"""Billing: runs that turn customer services and usage into invoices.

A **billing run** bills every customer whose billing day is its billing date:
monthly services for the period that starts that day (in advance, prorated
by day), one-off items and usage charges dated up to the cut-off (in
arrears). What it charges is written as **invoice lines**; lines of one
customer are gathered into one **invoice**, numbered in one gapless
sequence (`core.Sequence`, taken in the issuing transaction), posted to the
ledger. A customer whose lines add up to less than the installation's
minimum invoice keeps them as *carried* lines (no invoice yet), gathered
into the next invoice.

Idempotency lives in the schema: a monthly service has at most one line per
period, a one-off item one line ever, a usage charge one line ever. A run
that is repeated, resumed or raced therefore bills nothing twice.

Invoices and their lines are immutable once issued; a **credit note** (an
invoice of kind credit note, negative lines) corrects one.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from patron.core.models import PatronModel, RestrictedQuerySet
from patron.core.money import format_money, money_field


class ImmutableError(Exception):
    """Something tried to change an issued invoice or its lines."""


class CustomerRowsQuerySet(RestrictedQuerySet):
    """Rows that follow their customer's visibility (customers restricted to groups)."""

    def restrict_rows(self, user, action):
        from patron.customers.models import Customer

        return self.filter(customer__in=Customer.objects.restrict_rows(user, "view"))


class BillingRun(PatronModel):
    """One billing date's run: who was billed, for which period, with what result."""

    class State(models.TextChoices):
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    billing_date = models.DateField(help_text="The first day of the period billed.")
    period_start = models.DateField()
    period_end = models.DateField()
    cutoff_date = models.DateField(help_text="Usage and one-off items up to this day.")
    state = models.CharField(max_length=10, choices=State.choices, default=State.RUNNING)
    job = models.ForeignKey(
        "jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    started_by_label = models.CharField(max_length=200, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    customers_billed = models.PositiveIntegerField(default=0)
    invoice_count = models.PositiveIntegerField(default=0)
    net_total = money_field(default=0)
    tax_total = money_field(default=0)
    gross_total = money_field(default=0)
    summary = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-billing_date", "-id"]
        verbose_name = "billing run"
        constraints = [
            # One run per billing date; a failed run is resumed, never run beside.
            models.UniqueConstraint(fields=["billing_date"], name="billingrun_one_per_date")
        ]
        permissions = [("run_billing", "Can preview and start billing runs")]

    def __str__(self):
        return f"Billing run {self.billing_date:%d %b %Y}"

    def get_absolute_url(self):
        return reverse("billing:run", args=[self.pk])


class Invoice(models.Model):
    """An invoice or a credit note issued to one customer; immutable once issued.

    `number` is the gapless sequence's number in the installation's format
    (`PATRON_INVOICE_PREFIX`, `PATRON_CREDIT_NOTE_PREFIX`); an imported
    invoice keeps the old system's number and has no `sequence_number`.
    `amount_paid` is the only field that changes after issue: payments
    allocated to it (the payments issue) add to it.
    """

    class Kind(models.TextChoices):
        INVOICE = "invoice", "Invoice"
        CREDIT_NOTE = "credit_note", "Credit note"

    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.INVOICE)
    number = models.CharField(max_length=40, unique=True)
    sequence_number = models.PositiveBigIntegerField(null=True, blank=True)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="invoices"
    )
    # Indexed by invoice_run_customer (run, customer) only: a single-column index on run
    # tempts PostgreSQL, whose statistics say a new run has no invoices yet, into
    # scanning every invoice of the run for each line the run attaches.
    run = models.ForeignKey(
        BillingRun,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invoices",
        db_index=False,
    )
    issue_date = models.DateField(default=timezone.localdate)
    due_date = models.DateField()
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    net = money_field()
    tax = money_field()
    gross = money_field()
    amount_paid = money_field(default=0)
    message = models.TextField(blank=True, help_text="The status's invoice message, if any.")
    is_final = models.BooleanField("final bill", default=False)
    imported = models.BooleanField(default=False)
    salesperson = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sales_invoices",
    )
    corrects = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credit_notes",
        help_text="The invoice a credit note corrects.",
    )
    reason = models.TextField(blank=True, help_text="Why a credit note was issued.")
    issued_at = models.DateTimeField(default=timezone.now)
    issued_by_label = models.CharField(max_length=200, blank=True)

    objects = CustomerRowsQuerySet.as_manager()

    MUTABLE = frozenset({"amount_paid"})

    class Meta:
        ordering = ["-issue_date", "-id"]
        verbose_name = "invoice"
        indexes = [
            models.Index(fields=["customer", "-issue_date"], name="invoice_customer_date"),
            models.Index(fields=["issue_date"], name="invoice_issue_date"),
            models.Index(fields=["run", "customer"], name="invoice_run_customer"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "sequence_number"],
                condition=Q(sequence_number__isnull=False),
                name="invoice_gapless_number",
            ),
            # A run issues at most one invoice per customer.
            models.UniqueConstraint(
                fields=["run", "customer"],
                condition=Q(run__isnull=False),
                name="invoice_one_per_run",
            ),
        ]
        permissions = [("issue_credit_note", "Can issue credit notes for invoices")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.number}"

    def save(self, *args, **kwargs):
        update_fields = kwargs.get("update_fields")
        if self.pk is not None and not (update_fields and set(update_fields) <= self.MUTABLE):
            raise ImmutableError(
                "An issued invoice is never changed; issue a credit note to correct it."
            )
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("billing:invoice", args=[self.pk])

    def delete(self, *args, **kwargs):
        raise ImmutableError("An issued invoice is never deleted; issue a credit note.")

    @property
    def is_credit_note(self) -> bool:
        return self.kind == self.Kind.CREDIT_NOTE

    @property
    def outstanding(self):
        return self.gross - self.amount_paid

    @property
    def payment_state(self) -> str:
        """Open, part-paid or paid (credit notes: issued)."""
        if self.is_credit_note:
            return "issued"
        if self.amount_paid <= 0:
            return "open"
        return "paid" if self.amount_paid >= self.gross else "part_paid"

    def payment_state_label(self) -> str:
        return {"issued": "Issued", "open": "Open", "part_paid": "Part-paid", "paid": "Paid"}[
            self.payment_state
        ]

    def total_display(self) -> str:
        return format_money(self.gross)


class InvoiceLine(models.Model):
    """One charge: a monthly service for a period, a one-off item, a usage charge.

    `invoice` is empty while the line is *carried* (its customer's total was
    below the minimum invoice); the next invoice gathers it. Amounts are
    rounded half-up to the currency's minor unit on each line (docs/billing.md).
    """

    class Kind(models.TextChoices):
        RECURRING = "recurring", "Monthly service"
        ONE_OFF = "one_off", "One-off item"
        USAGE = "usage", "Usage"
        CREDIT = "credit", "Credit"
        IMPORTED = "imported", "Imported"

    # Indexed by invoiceline_invoice (invoice, customer), which also finds a chunk's
    # uninvoiced lines (invoice IS NULL, customer in a range) without a scan.
    invoice = models.ForeignKey(
        Invoice,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="lines",
        db_index=False,
    )
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="invoice_lines"
    )
    run = models.ForeignKey(
        BillingRun,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="lines",
        db_index=False,  # indexed by invoiceline_run
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    customer_service = models.ForeignKey(
        "subscriptions.CustomerService",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invoice_lines",
    )
    service = models.ForeignKey(
        "catalogue.Service",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invoice_lines",
    )
    usage_charge = models.OneToOneField(
        "billing.UsageCharge",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invoice_line",
    )
    inventory_type = models.ForeignKey(
        "catalogue.InventoryType",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invoice_lines",
    )
    description = models.CharField(max_length=300)
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    quantity = models.DecimalField(max_digits=14, decimal_places=4, default=1)
    unit_price = money_field()
    discount_percent = models.DecimalField(max_digits=7, decimal_places=4, default=0)
    tax_rate = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    net = money_field()
    tax = money_field()
    gross = money_field()
    # Lines credited by a credit note point at the line they reverse.
    credits = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="credited_by"
    )

    objects = CustomerRowsQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        verbose_name = "invoice line"
        indexes = [
            models.Index(fields=["invoice", "customer"], name="invoiceline_invoice"),
            models.Index(fields=["customer", "invoice"], name="invoiceline_customer"),
            models.Index(fields=["run"], name="invoiceline_run"),
        ]
        constraints = [
            # The run's idempotency: a monthly service once per period, an item once.
            models.UniqueConstraint(
                fields=["customer_service", "period_start"],
                condition=Q(kind="recurring"),
                name="invoiceline_service_period",
            ),
            models.UniqueConstraint(
                fields=["customer_service"],
                condition=Q(kind="one_off"),
                name="invoiceline_one_off_once",
            ),
        ]

    def __str__(self):
        return self.description

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ImmutableError("An invoice line is never changed; issue a credit note.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableError("An invoice line is never deleted; issue a credit note.")


class UsageCharge(PatronModel):
    """A rated usage line (calls, overage) waiting for the billing run, billed in arrears.

    Posted through `/api/usage-charges/` or a CSV; `amount` is the rated
    charge, entered like catalogue prices (net, or gross where prices include
    tax). `reference` (the caller's record id) is unique per customer, so a
    resent file or request adds nothing.
    """

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="usage_charges"
    )
    service = models.ForeignKey(
        "catalogue.Service",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="usage_charges",
        help_text="The usage-rated service, for its tax rate and inventory type.",
    )
    date = models.DateField()
    description = models.CharField(max_length=200)
    quantity = models.DecimalField(max_digits=14, decimal_places=4, default=1)
    amount = money_field()
    reference = models.CharField(max_length=100, blank=True)

    objects = CustomerRowsQuerySet.as_manager()

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = "usage charge"
        indexes = [models.Index(fields=["customer", "date"], name="usage_customer_date")]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "reference"],
                condition=~Q(reference=""),
                name="usage_reference_once",
            )
        ]

    def __str__(self):
        return f"{self.description} {format_money(self.amount)}"

    @property
    def billed(self) -> bool:
        return hasattr(self, "invoice_line")
