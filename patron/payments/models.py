"""Payments (BIL-3, BIL-4): money received from a customer or a payment group.

A **payment** is allocated to open invoices (`PaymentAllocation`, one row per
invoice paid) and posted to the ledger (one PAYMENT entry per customer it
touches). What it does not allocate is `unallocated`: for a customer's payment
that is credit already on the customer's ledger (a negative balance); for a
group payment it is credit held on the group, posted to a member only when the
billing run applies it to that member's next invoice (docs/payments.md).

Refunds and reversals (a bounced cheque) are new `Payment` rows of their kind,
pointing at the payment they undo (`reverses`), with negative allocation rows
for the invoices they reopen: a payment is never edited, apart from its running
`unallocated` (the credit still held), as `Invoice.amount_paid` is.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from patron.core.fields import check_unique_name
from patron.core.models import PatronModel, RestrictedQuerySet
from patron.core.money import format_money, money_field


class PaymentMethod(PatronModel):
    """How money arrives: cash, bank transfer, card, direct debit, cheque (an admin list)."""

    name = models.CharField(max_length=60)
    position = models.PositiveIntegerField(default=100)
    active = models.BooleanField(default=True, help_text="Inactive methods are not offered.")

    class Meta:
        ordering = ["position", "name"]
        verbose_name = "payment method"
        constraints = [models.UniqueConstraint(Lower("name"), name="paymentmethod_name_ci")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("payments:method_edit", args=[self.pk])

    def clean(self):
        self.name = (self.name or "").strip()
        check_unique_name(self, label="payment method")


class PaymentQuerySet(RestrictedQuerySet):
    def restrict_rows(self, user, action):
        # A customer's payment follows its customer; a group payment is seen by whoever
        # sees one of the group's members or a customer it was allocated to.
        from patron.customers.models import Customer, GroupMembership

        visible = Customer.objects.restrict_rows(user, "view")
        if not getattr(user, "has_customer_restriction", False):
            return self
        groups = GroupMembership.objects.filter(customer__in=visible).values("group_id")
        allocated = PaymentAllocation.objects.filter(customer__in=visible).values("payment_id")
        return self.filter(
            Q(customer__in=visible)
            | Q(group__isnull=False, group_id__in=groups)
            | Q(group__isnull=False, pk__in=allocated)
        )


class Payment(models.Model):
    """Money received (kind payment), paid back (refund) or bounced (reversal)."""

    class Kind(models.TextChoices):
        PAYMENT = "payment", "Payment"
        REFUND = "refund", "Refund"
        REVERSAL = "reversal", "Reversal"

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.PAYMENT)
    customer = models.ForeignKey(
        "customers.Customer",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
    )
    group = models.ForeignKey(
        "groups.Group", null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    method = models.ForeignKey(PaymentMethod, on_delete=models.PROTECT, related_name="payments")
    amount = money_field(help_text="Always positive: what was received, refunded or reversed.")
    unallocated = money_field(
        default=0, help_text="A payment's credit still held (not allocated, not refunded)."
    )
    received_date = models.DateField(default=timezone.localdate)
    reference = models.CharField(max_length=100, blank=True)
    note = models.TextField(blank=True, help_text="A note, or the reason of a refund or reversal.")
    reverses = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections"
    )
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_label = models.CharField(max_length=200, blank=True)
    created = models.DateTimeField(default=timezone.now)

    objects = PaymentQuerySet.as_manager()

    MUTABLE = frozenset({"unallocated"})

    class Meta:
        ordering = ["-received_date", "-id"]
        verbose_name = "payment"
        indexes = [
            models.Index(fields=["customer", "-received_date"], name="payment_customer_date"),
            models.Index(fields=["group", "-received_date"], name="payment_group_date"),
            models.Index(fields=["received_date"], name="payment_received"),
            # The billing run's hook: payments still holding credit.
            models.Index(
                fields=["customer", "group"],
                condition=Q(unallocated__gt=0),
                name="payment_credit_held",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=(Q(customer__isnull=False) & Q(group__isnull=True))
                | (Q(customer__isnull=True) & Q(group__isnull=False)),
                name="payment_one_payer",
            ),
            # A payment is reversed at most once.
            models.UniqueConstraint(
                fields=["reverses"], condition=Q(kind="reversal"), name="payment_reversed_once"
            ),
        ]
        permissions = [
            ("refund_payment", "Can refund and reverse payments"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk} {format_money(self.amount)}"

    def save(self, *args, **kwargs):
        update_fields = kwargs.get("update_fields")
        if self.pk is not None and not (update_fields and set(update_fields) <= self.MUTABLE):
            raise ValueError("A payment is never edited; record a refund or a reversal.")
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("payments:detail", args=[self.pk])

    def delete(self, *args, **kwargs):
        raise ValueError("A payment is never deleted; record a refund or a reversal.")

    @property
    def payer(self):
        return self.customer if self.customer_id else self.group

    @property
    def payer_label(self) -> str:
        if self.customer_id:
            return f"{self.customer.name} ({self.customer.account_number})"
        return f"Group “{self.group}”"

    def amount_display(self) -> str:
        return format_money(self.amount)


class PaymentAllocation(models.Model):
    """Part of a payment put on one invoice (negative: a refund or reversal reopening it)."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="allocations")
    invoice = models.ForeignKey(
        "billing.Invoice", on_delete=models.PROTECT, related_name="allocations"
    )
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="payment_allocations"
    )
    amount = money_field()
    created = models.DateTimeField(default=timezone.now)
    # Set when the billing run applied held credit (not the day the payment came).
    by_billing_run = models.ForeignKey(
        "billing.BillingRun", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["id"]
        verbose_name = "payment allocation"
        indexes = [
            models.Index(fields=["invoice"], name="allocation_invoice"),
            models.Index(fields=["customer"], name="allocation_customer"),
        ]

    def __str__(self):
        return f"{format_money(self.amount)} to {self.invoice_id}"
