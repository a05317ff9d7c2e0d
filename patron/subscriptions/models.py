"""Customer services (BIL-2): what each customer has from the catalogue, when, at what price."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone

from patron.core.models import PatronModel, RestrictedQuerySet
from patron.core.money import format_money, is_exact, money_field, to_money


class CustomerServiceQuerySet(RestrictedQuerySet):
    def restrict_rows(self, user, action):
        # A customer's services follow the customer's visibility (customers restricted to groups).
        from patron.customers.models import Customer

        return self.filter(customer__in=Customer.objects.restrict_rows(user, "view"))

    def current(self):
        """Services not ended: active or suspended."""
        return self.exclude(status=CustomerService.Status.ENDED)


class CustomerService(PatronModel):
    """One catalogue service on one customer: quantity, an optional price override,
    the first day and (optionally) the last day, and whether it is running.

    The billing run charges `unit_price * quantity` for the days between
    `start_date` and `end_date` (both included) while the status is active.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"
        ENDED = "ended", "Ended"

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="customer_services"
    )
    service = models.ForeignKey(
        "catalogue.Service", on_delete=models.PROTECT, related_name="customer_services"
    )
    quantity = models.PositiveIntegerField(default=1)
    price_override = money_field(
        null=True, blank=True, help_text="Empty: the catalogue price. Entered like the catalogue."
    )
    start_date = models.DateField("start", default=timezone.localdate)
    end_date = models.DateField("end", null=True, blank=True, help_text="The last day, included.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    note = models.CharField(max_length=200, blank=True)

    objects = CustomerServiceQuerySet.as_manager()

    class Meta:
        ordering = ["customer", "start_date", "id"]
        verbose_name = "customer service"
        indexes = [
            models.Index(fields=["customer", "status"], name="custservice_customer"),
            models.Index(fields=["service", "status"], name="custservice_service"),
        ]

    def __str__(self):
        name = self.service.name if self.service_id else "Service"
        return f"{name} × {self.quantity}" if self.quantity != 1 else name

    def get_absolute_url(self):
        return reverse("subscriptions:edit", args=[self.pk])

    def clean(self):
        errors = {}
        if self.quantity is not None and self.quantity < 1:
            errors["quantity"] = "The quantity is a whole number of at least 1."
        if self.end_date and self.start_date and self.end_date < self.start_date:
            errors["end_date"] = (
                f"The last day ({self.end_date:%-d %b %Y}) cannot be before the first day "
                f"({self.start_date:%-d %b %Y})."
            )
        if self.price_override is not None:
            if self.price_override < 0:
                errors["price_override"] = "A price cannot be negative."
            elif not is_exact(self.price_override):
                errors["price_override"] = (
                    f"{self.price_override} has more decimals than the currency has."
                )
        if errors:
            raise ValidationError(errors)

    @property
    def unit_price(self) -> Decimal:
        """The price charged per unit: the override, else the catalogue price."""
        price = self.price_override if self.price_override is not None else self.service.price
        return to_money(price)

    @property
    def total_price(self) -> Decimal:
        return to_money(self.unit_price * self.quantity)

    @property
    def price_display(self) -> str:
        return format_money(self.total_price)
