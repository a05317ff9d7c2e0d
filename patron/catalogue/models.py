"""The service catalogue (BIL-1): what Patron's customers can buy, at what price and tax."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse

from patron.core.fields import check_unique_name
from patron.core.models import PatronModel, RestrictedQuerySet
from patron.core.money import format_money, is_exact, money_field, to_money


class TaxRate(PatronModel):
    """A rate of tax a service can carry, e.g. "UK VAT standard" at 20.00 %.

    One rate is the default for new services. A rate used by a service is
    archived, never deleted, so old invoices keep their rate.
    """

    name = models.CharField(max_length=100)
    rate = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
        help_text="Percent, e.g. 20.00.",
    )
    is_default = models.BooleanField("default", default=False)
    archived = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=100)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = "tax rate"
        constraints = [
            models.UniqueConstraint(Lower("name"), name="taxrate_name_ci_unique"),
            models.UniqueConstraint(
                fields=["is_default"], condition=models.Q(is_default=True), name="one_default_tax"
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.rate.normalize():f}%)"

    def get_absolute_url(self):
        return reverse("catalogue:taxrate_edit", args=[self.pk])

    def clean(self):
        self.name = (self.name or "").strip()
        check_unique_name(self, label="tax rate")
        if self.is_default and self.archived:
            raise ValidationError({"archived": "The default tax rate cannot be archived."})


class InventoryType(PatronModel):
    """What kind of thing a service is (broadband, voice, equipment, installation...);
    sales are reported by it."""

    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    archived = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=100)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = "inventory type"
        constraints = [models.UniqueConstraint(Lower("name"), name="inventorytype_name_ci_unique")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("catalogue:inventorytype_edit", args=[self.pk])

    def clean(self):
        self.name = (self.name or "").strip()
        check_unique_name(self, label="inventory type")


class ServiceQuerySet(RestrictedQuerySet):
    def active(self):
        return self.filter(archived=False)


class Service(PatronModel):
    """A catalogue item: a monthly service, a one-off item or a usage-rated charge.

    `price` is stored exactly as entered, and `price_includes_tax` records
    whether it was entered gross (tax included) or net, as the installation's
    `PATRON_PRICES_INCLUDE_TAX` said when it was saved, so changing the setting
    never changes an existing price. `allowed_groups` empty: anyone may have
    it; otherwise only members of those groups or their subgroups.
    """

    class Kind(models.TextChoices):
        MONTHLY = "monthly", "Monthly recurring"
        ONE_OFF = "one_off", "One-off item"
        USAGE = "usage", "Usage-rated"

    code = models.CharField(max_length=40, help_text="Unique, e.g. FIBRE500.")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.MONTHLY)
    price = money_field(help_text="Per month, per item, or per unit of usage.")
    price_includes_tax = models.BooleanField(default=False, editable=False)
    unit = models.CharField(
        max_length=30, blank=True, help_text="What a usage price is per, e.g. minute or GB."
    )
    tax_rate = models.ForeignKey(TaxRate, on_delete=models.PROTECT, related_name="services")
    inventory_type = models.ForeignKey(
        InventoryType,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="services",
    )
    allowed_groups = models.ManyToManyField(
        "groups.Group",
        blank=True,
        related_name="allowed_services",
        help_text="Only customers in these groups (or their subgroups) may have the service.",
    )
    # A related contract template comes with the contracts work; nothing is stored yet.
    archived = models.BooleanField(default=False)

    objects = ServiceQuerySet.as_manager()

    class Meta:
        ordering = ["name", "code"]
        verbose_name = "service"
        constraints = [models.UniqueConstraint(Lower("code"), name="service_code_ci_unique")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("catalogue:service_edit", args=[self.pk])

    def clean(self):
        self.code = (self.code or "").strip()
        self.name = (self.name or "").strip()
        check_unique_name(self, field="code", label="service")
        if self.price is not None:
            if self.price < 0:
                raise ValidationError({"price": "A price cannot be negative."})
            if not is_exact(self.price):
                raise ValidationError(
                    {"price": f"{self.price} has more decimals than the currency has."}
                )
        if self.pk is None:
            self.price_includes_tax = bool(settings.PATRON_PRICES_INCLUDE_TAX)

    # --- prices -------------------------------------------------------------

    def net_price(self, price: Decimal | None = None) -> Decimal:
        """The price before tax (a gross price is divided back, rounded half-up)."""
        price = self.price if price is None else price
        if not self.price_includes_tax:
            return to_money(price)
        return to_money(price * 100 / (100 + self.tax_rate.rate))

    def gross_price(self, price: Decimal | None = None) -> Decimal:
        """The price with tax (a net price times the rate, rounded half-up)."""
        price = self.price if price is None else price
        if self.price_includes_tax:
            return to_money(price)
        return to_money(price * (100 + self.tax_rate.rate) / 100)

    @property
    def price_display(self) -> str:
        basis = "incl. tax" if self.price_includes_tax else "net"
        per = {"monthly": " / month", "usage": f" / {self.unit or 'unit'}"}.get(self.kind, "")
        return f"{format_money(self.price)}{per} ({basis})"

    # --- who may have it ----------------------------------------------------

    def allowed_for(self, customer) -> bool:
        """True when the service has no allowed groups, or the customer is in one of
        them or below (dynamic groups included, as `restrict()` reads them)."""
        paths = [g.path for g in self.allowed_groups.all()]
        if not paths:
            return True
        from patron.customers.models import Customer
        from patron.groups.visibility import restricted_customer_q

        # The same "in these groups' subtrees" answer restrict() uses for a user.
        in_groups = restricted_customer_q(SimpleNamespace(restricted_paths=paths))
        return Customer.objects.filter(in_groups, pk=customer.pk).exists()
