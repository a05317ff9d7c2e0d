"""The ledger: every movement of a customer's money (and cashback), append-only.

Sign convention (docs/billing.md): in the **money** book a positive amount
means the customer owes more (an invoice, a refund paid out), a negative one
that they owe less (a payment, a credit note, a credit). A positive money
balance is what the customer owes; a negative one is credit held for them.
In the **cashback** book the balance is the cashback held for the customer:
an accrual is positive, a withdrawal or redemption negative.

Entries are never edited or deleted: a mistake is corrected by a new entry
(a credit note, a reversal, an adjustment). Each entry stores the running
balance of its (customer, book) just after it, in posting order, so a page
of the ledger is read without summing; `Balance` holds the current balance
in a narrow row kept in the same transaction as the entries.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from patron.core.models import RestrictedQuerySet
from patron.core.money import format_money, money_field


class Book(models.TextChoices):
    MONEY = "money", "Money"
    CASHBACK = "cashback", "Cashback"


class Kind(models.TextChoices):
    INVOICE = "invoice", "Invoice"
    CREDIT_NOTE = "credit_note", "Credit note"
    PAYMENT = "payment", "Payment"
    PAYMENT_REVERSAL = "payment_reversal", "Payment reversal"
    REFUND = "refund", "Refund"
    CREDIT = "credit", "Credit"
    ADJUSTMENT = "adjustment", "Adjustment"
    CASHBACK_ACCRUAL = "cashback_accrual", "Cashback accrual"
    CASHBACK_WITHDRAWAL = "cashback_withdrawal", "Cashback withdrawal"
    CASHBACK_SET = "cashback_set", "Cashback set"
    CASHBACK_REDEMPTION = "cashback_redemption", "Cashback redemption"


# Which kinds each book takes, and the sign each kind's amount must have
# (+1: positive, -1: negative, 0: either, never zero).
KIND_RULES: dict[str, tuple[str, int]] = {
    Kind.INVOICE: (Book.MONEY, +1),
    Kind.CREDIT_NOTE: (Book.MONEY, -1),
    Kind.PAYMENT: (Book.MONEY, -1),
    Kind.PAYMENT_REVERSAL: (Book.MONEY, +1),
    Kind.REFUND: (Book.MONEY, +1),
    Kind.CREDIT: (Book.MONEY, -1),
    Kind.ADJUSTMENT: (Book.MONEY, 0),
    Kind.CASHBACK_ACCRUAL: (Book.CASHBACK, +1),
    Kind.CASHBACK_WITHDRAWAL: (Book.CASHBACK, -1),
    Kind.CASHBACK_SET: (Book.CASHBACK, 0),
    Kind.CASHBACK_REDEMPTION: (Book.CASHBACK, -1),
}


class AppendOnlyError(Exception):
    """Something tried to change or delete a ledger entry."""


class LedgerEntryQuerySet(RestrictedQuerySet):
    def restrict_rows(self, user, action):
        # Entries follow their customer's visibility (customers restricted to groups).
        from patron.customers.models import Customer

        return self.filter(customer__in=Customer.objects.restrict_rows(user, "view"))

    def update(self, **kwargs):
        raise AppendOnlyError("Ledger entries are never changed; post a correcting entry.")

    def delete(self):
        raise AppendOnlyError("Ledger entries are never deleted; post a correcting entry.")

    def money(self):
        return self.filter(book=Book.MONEY)


class LedgerEntry(models.Model):
    """One movement on a customer's book: an invoice, a payment, a credit, an adjustment...

    Append-only: `save()` inserts once and refuses any later change, `delete()`
    always refuses. `running_balance` is the book's balance just after this
    entry, in posting order (`id`), which is also the ledger page's order.
    The source links (`source_type`, `source_id`) name the document that
    caused the entry (an invoice, a payment, a cashback run), filled in by
    the app that posts it; `reverses` names the entry a reversal undoes.
    """

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="ledger_entries"
    )
    book = models.CharField(max_length=10, choices=Book.choices, default=Book.MONEY)
    kind = models.CharField(max_length=24, choices=Kind.choices)
    amount = money_field(help_text="Positive: the customer owes more (money book).")
    running_balance = money_field()
    effective_date = models.DateField(default=timezone.localdate)
    posted_at = models.DateTimeField(default=timezone.now)
    description = models.CharField(max_length=200, blank=True)
    reason = models.TextField(blank=True, help_text="Why it was posted (required for adjustments).")
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_label = models.CharField(max_length=200, blank=True)
    # Entries posted together (one billing run, one cashback run) share a batch.
    batch = models.UUIDField(null=True, blank=True, db_index=True)
    source_type = models.ForeignKey(
        "contenttypes.ContentType",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    source_id = models.PositiveBigIntegerField(null=True, blank=True)
    reverses = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )

    objects = LedgerEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name = "ledger entry"
        verbose_name_plural = "ledger entries"
        indexes = [
            # The ledger page: one customer's book, newest first, paginated.
            models.Index(fields=["customer", "book", "-id"], name="ledger_customer_book"),
            models.Index(fields=["source_type", "source_id"], name="ledger_source"),
        ]
        permissions = [("adjust_balance", "Can post manual adjustments to a customer's balance")]

    def __str__(self):
        return f"{self.get_kind_display()} {format_money(self.amount, signed=True)}"

    def save(self, *args, **kwargs):
        if self.pk is not None or kwargs.get("update_fields"):
            raise AppendOnlyError("Ledger entries are never changed; post a correcting entry.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("ledger:customer", args=[self.customer_id])

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Ledger entries are never deleted; post a correcting entry.")


class BalanceQuerySet(RestrictedQuerySet):
    def restrict_rows(self, user, action):
        from patron.customers.models import Customer

        return self.filter(customer__in=Customer.objects.restrict_rows(user, "view"))


class Balance(models.Model):
    """The current balance of one customer's book: a narrow row beside the wide customer.

    Kept in the same transaction as every entry (the row is locked while the
    entries are written), so `amount` always equals the sum of the book's
    entries and the last entry's running balance. A customer without a row
    has a balance of zero. The segment language's `balance>100` reads this
    table through its (book, amount) index.
    """

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="balances"
    )
    book = models.CharField(max_length=10, choices=Book.choices, default=Book.MONEY)
    amount = money_field(default=0)
    entry_count = models.PositiveIntegerField(default=0)
    last_entry = models.ForeignKey(
        LedgerEntry, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_posted_at = models.DateTimeField(null=True, blank=True)

    objects = BalanceQuerySet.as_manager()

    class Meta:
        verbose_name = "balance"
        constraints = [
            models.UniqueConstraint(fields=["customer", "book"], name="balance_customer_book")
        ]
        indexes = [models.Index(fields=["book", "amount", "customer"], name="balance_book_amount")]

    def __str__(self):
        return f"{self.get_book_display()} balance {format_money(self.amount)}"
