"""Customer accounts, their contacts, and their links to the organising lists."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper
from django.urls import reverse

from patron.core.emails import InternationalEmailField
from patron.core.models import PatronModel, RestrictedQuerySet


class CustomerQuerySet(RestrictedQuerySet):
    def restrict_rows(self, user, action):
        """A user restricted to groups sees only members of those groups' subtrees,
        dynamic groups included (see `patron.groups.visibility`)."""
        from patron.groups.visibility import restricted_customer_q

        if not getattr(user, "has_customer_restriction", False):
            return self
        return self.filter(restricted_customer_q(user))

    def active(self):
        return self.filter(archived=False)

    # What the billing and messaging work selects; documented in docs/statuses.md.
    def paying(self):
        """Real customers: not archived and not in a CRM-only (prospect) status."""
        return self.filter(archived=False, status__crm_only=False)

    def billable(self):
        """Customers the billing run invoices: paying, in a billable status."""
        return self.paying().filter(status__billable=True)

    def may_receive_mail(self):
        """Customers whose status allows correspondence (per-contact opt-outs apply on top)."""
        return self.paying().filter(status__send_correspondence=True)

    def may_use_portal(self):
        """Customers whose contacts may log in to the customer portal."""
        return self.filter(archived=False, status__portal_login=True)

    def archived(self):
        return self.filter(archived=True)

    def search(self, text: str):
        """Account number, name, address, contact name, email or phone (any format).

        Any fragment, any case; answered from the search index that
        patron.search keeps (trigram GIN on PostgreSQL, FTS5 on SQLite).
        """
        from patron.core.expressions import InList
        from patron.search.index import matching_ids

        text = (text or "").strip()
        if not text:
            return self
        return self.filter(InList(F("pk"), matching_ids(text)))


class Customer(PatronModel):
    """A customer account: the person or company Patron keeps everything about."""

    class Kind(models.TextChoices):
        PERSON = "person", "Person"
        COMPANY = "company", "Company"

    account_number = models.CharField(max_length=30, unique=True)
    # The display name: for a person with a first or last name it is derived from them,
    # for a company with a company name from that (see `derived_name`).
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.PERSON)
    # The fields added for customers abroad have database defaults too, so rows written
    # by hand-written SQL (the benchmark loader, bulk imports) need not name them.
    first_name = models.CharField(max_length=100, blank=True, default="", db_default="")
    last_name = models.CharField(max_length=100, blank=True, default="", db_default="")
    company_name = models.CharField(max_length=200, blank=True, default="", db_default="")
    tax_number = models.CharField(
        "VAT or tax number",
        max_length=40,
        blank=True,
        default="",
        db_default="",
        help_text="Checked for the billing country where its format is known.",
    )
    # NULL when not set, so "unique when set" needs no partial index (the import matches
    # on it; an equality lookup uses the unique index on both databases).
    external_reference = models.CharField(
        max_length=100,
        null=True,
        blank=True,
        unique=True,
        help_text="The account's id in another system, e.g. the one it was imported from.",
    )
    # Empty: the installation's PATRON_BILLING_DAY. 1-28, so every month has the day.
    billing_day = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(28)],
        help_text="The day of the month the billing run invoices this account (1-28); "
        "empty: the installation's default.",
    )
    # Indexed by customer_status_id (status, id) below.
    status = models.ForeignKey(
        "statuses.Status", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    customer_class = models.ForeignKey(
        "classes.CustomerClass",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="class",
    )
    department = models.ForeignKey(
        "departments.Department",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The team that looks after this account.",
    )
    referred_by = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="referrals",
        db_index=False,  # customer_referred_by below holds only the referred
    )
    # Service address
    service_street = models.CharField("street", max_length=200, blank=True)
    # Matched without regard to case (`city:leeds`): indexed as UPPER() below.
    service_city = models.CharField("city", max_length=100, blank=True)
    service_postcode = models.CharField("postcode", max_length=20, blank=True)
    # ISO 3166-2 code ("US-CA") where pycountry knows the country's subdivisions, else text.
    service_region = models.CharField(
        "region or state", max_length=100, blank=True, default="", db_default=""
    )
    # ISO 3166-1 alpha-2; empty on save means the home country (PATRON_DEFAULT_COUNTRY).
    service_country = models.CharField("country", max_length=2, blank=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    # Billing address
    billing_same_as_service = models.BooleanField(
        "billing address as service address", default=True
    )
    billing_street = models.CharField(max_length=200, blank=True)
    billing_city = models.CharField(max_length=100, blank=True)
    billing_postcode = models.CharField(max_length=20, blank=True)
    billing_region = models.CharField(
        "billing region or state", max_length=100, blank=True, default="", db_default=""
    )
    billing_country = models.CharField(max_length=2, blank=True)
    notes = models.TextField(blank=True)
    custom_fields = models.JSONField(
        default=dict, blank=True, help_text="Values of the admin-defined custom fields, by key."
    )
    status_since = models.DateField(
        null=True, blank=True, editable=False, help_text="Effective date of the current status."
    )
    archived = models.BooleanField(default=False)  # customer_archived below: the few archived
    archived_at = models.DateTimeField(null=True, blank=True, editable=False)

    tags = models.ManyToManyField("tags.Tag", through="CustomerTag", related_name="customers")
    groups = models.ManyToManyField(
        "groups.Group", through="GroupMembership", related_name="customers"
    )

    objects = CustomerQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["name", "id"], name="customer_name_id"),
            models.Index(fields=["status", "id"], name="customer_status_id"),
            models.Index(fields=["status", "status_since"], name="customer_status_since"),
            models.Index(fields=["created"], name="customer_created"),
            models.Index(Upper("service_city"), name="customer_city_upper"),
            models.Index(Upper("service_postcode"), name="customer_postcode_upper"),
            models.Index(fields=["id"], condition=Q(archived=True), name="customer_archived"),
            models.Index(
                fields=["referred_by"],
                condition=Q(referred_by__isnull=False),
                name="customer_referred_by",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.account_number})"

    def get_absolute_url(self):
        return reverse("customers:detail", args=[self.pk])

    @staticmethod
    def derived_name(*, kind: str, first_name: str, last_name: str, company_name: str, name: str):
        """The display name: a person's first and last name, a company's company name,
        else the name as given."""
        if kind == Customer.Kind.COMPANY and company_name.strip():
            return " ".join(company_name.split())
        if kind != Customer.Kind.COMPANY and (first_name.strip() or last_name.strip()):
            return " ".join(f"{first_name} {last_name}".split())
        return name

    @property
    def tax_country(self) -> str:
        """The country a tax number is checked for: the billing country when billing
        elsewhere, else the service country."""
        if not self.billing_same_as_service and self.billing_country:
            return self.billing_country
        return self.service_country

    def clean_fields(self, exclude=None):
        self.name = self.derived_name(
            kind=self.kind,
            first_name=self.first_name,
            last_name=self.last_name,
            company_name=self.company_name,
            name=self.name,
        )
        if self.external_reference is not None:
            self.external_reference = self.external_reference.strip() or None
        for field in ("latitude", "longitude"):
            value = getattr(self, field)
            if isinstance(value, float | int):
                # Coordinates computed as numbers are kept to six places (~0.1 m).
                setattr(self, field, Decimal(str(round(value, 6))))
        super().clean_fields(exclude=exclude)

    def clean(self):
        errors = {}
        self._clean_places(errors)
        if self.latitude is not None and not -90 <= self.latitude <= 90:
            errors["latitude"] = "Latitude must be between -90 and 90."
        if self.longitude is not None and not -180 <= self.longitude <= 180:
            errors["longitude"] = "Longitude must be between -180 and 180."
        if (self.latitude is None) != (self.longitude is None):
            errors["longitude" if self.longitude is None else "latitude"] = (
                "Give both latitude and longitude, or neither."
            )
        if self.referred_by_id and self.referred_by_id == self.pk:
            errors["referred_by"] = "A customer cannot be referred by themselves."
        if errors:
            raise ValidationError(errors)

    def _clean_places(self, errors: dict) -> None:
        """Countries to ISO codes (empty service country: the home country), regions to
        ISO 3166-2 codes where known, the tax number checked for its country."""
        from patron.customers.countries import parse_country, parse_region
        from patron.customers.taxnumbers import validate_tax_number

        try:
            self.service_country = parse_country(self.service_country)
        except ValidationError as exc:
            errors["service_country"] = exc.messages
        billing_elsewhere = not self.billing_same_as_service and any(
            (self.billing_street, self.billing_city, self.billing_postcode, self.billing_region)
        )
        try:
            if self.billing_country or billing_elsewhere:
                # A billing address without a country is in the service address's country.
                self.billing_country = parse_country(
                    self.billing_country, default=self.service_country
                )
        except ValidationError as exc:
            errors["billing_country"] = exc.messages
        for region, country in (
            ("service_region", "service_country"),
            ("billing_region", "billing_country"),
        ):
            if country in errors:
                continue
            try:
                setattr(
                    self,
                    region,
                    parse_region(
                        getattr(self, region), getattr(self, country) or self.service_country
                    ),
                )
            except ValidationError as exc:
                errors[region] = exc.messages
        if "service_country" not in errors and "billing_country" not in errors:
            try:
                self.tax_number = validate_tax_number(self.tax_number, self.tax_country)
            except ValidationError as exc:
                errors["tax_number"] = exc.messages

    @property
    def map_url(self) -> str:
        if self.latitude is None:
            return ""
        return (
            "https://www.openstreetmap.org/?mlat="
            f"{self.latitude}&mlon={self.longitude}#map=17/{self.latitude}/{self.longitude}"
        )


class ContactQuerySet(RestrictedQuerySet):
    def restrict_rows(self, user, action):
        return self.filter(customer__in=Customer.objects.restrict_rows(user, "view"))


class Contact(PatronModel):
    """A person on a customer account.

    Phone numbers are read in the contact's country (else the customer's, else
    the home country) and stored in E.164; one kept exactly as written because
    it is not valid (an import's choice) has its `*_unverified` flag set.
    """

    PHONE_FIELDS = ("phone", "mobile", "fax")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    # Derived from first and last name when either is given.
    name = models.CharField(max_length=200)
    first_name = models.CharField(max_length=100, blank=True, default="", db_default="")
    last_name = models.CharField(max_length=100, blank=True, default="", db_default="")
    title = models.CharField(max_length=100, blank=True)
    email = InternationalEmailField(blank=True)
    country = models.CharField(
        max_length=2,
        blank=True,
        default="",
        db_default="",
        help_text="Where the contact's numbers are; empty for the customer's country.",
    )
    phone = models.CharField(max_length=20, blank=True, db_index=True)
    mobile = models.CharField(max_length=20, blank=True, db_index=True)
    fax = models.CharField(max_length=20, blank=True, default="", db_default="")
    phone_unverified = models.BooleanField(
        default=False,
        db_default=False,
        help_text="The phone number is kept as written: it is not valid.",
    )
    mobile_unverified = models.BooleanField(
        default=False,
        db_default=False,
        help_text="The mobile number is kept as written: it is not valid.",
    )
    fax_unverified = models.BooleanField(
        default=False,
        db_default=False,
        help_text="The fax number is kept as written: it is not valid.",
    )
    is_primary = models.BooleanField("primary contact", default=False)
    email_opt_out = models.BooleanField("no marketing email", default=False)
    sms_opt_out = models.BooleanField("no marketing SMS", default=False)
    portal_username = models.CharField(max_length=150, null=True, blank=True, unique=True)

    objects = ContactQuerySet.as_manager()

    class Meta:
        ordering = ["-is_primary", "name", "id"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("customers:detail", args=[self.customer_id]) + f"#contact-{self.pk}"

    def clean_fields(self, exclude=None):
        if self.first_name.strip() or self.last_name.strip():
            self.name = " ".join(f"{self.first_name} {self.last_name}".split())
        super().clean_fields(exclude=exclude)

    @property
    def phone_country(self) -> str:
        """The country the contact's numbers are read in ("" when none is known)."""
        from patron.customers.countries import home_country

        if self.country:
            return self.country
        customer_country = ""
        if self.customer_id:
            customer_country = self.customer.service_country
        return customer_country or home_country()

    def clean(self):
        from patron.customers.countries import parse_country
        from patron.customers.phones import parse_phone

        errors = {}
        if self.country:
            try:
                self.country = parse_country(self.country)
            except ValidationError as exc:
                errors["country"] = exc.messages
        if "country" not in errors:
            country = self.phone_country
            for field in self.PHONE_FIELDS:
                flag = f"{field}_unverified"
                try:
                    # Asking to keep a number that is in fact valid stores it verified.
                    phone = parse_phone(
                        getattr(self, field), country, keep_invalid=getattr(self, flag)
                    )
                except ValidationError as exc:
                    errors[field] = exc.messages
                else:
                    setattr(self, field, phone.number)
                    setattr(self, flag, not phone.verified)
        if self.portal_username == "":
            self.portal_username = None
        if self.portal_username and (
            Contact.objects.filter(portal_username__iexact=self.portal_username)
            .exclude(pk=self.pk)
            .exists()
        ):
            errors["portal_username"] = "Another contact already uses this portal username."
        if errors:
            raise ValidationError(errors)


class CustomerTag(models.Model):
    """A tag on a customer."""

    # Both links are indexed by the two-column indexes below (customer, tag) and
    # (tag, customer); single-column indexes would only slow every write.
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="tag_links", db_index=False
    )
    tag = models.ForeignKey(
        "tags.Tag", on_delete=models.CASCADE, related_name="customer_links", db_index=False
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "tag"], name="customer_tag_unique")
        ]
        indexes = [models.Index(fields=["tag", "customer"], name="customertag_tag_customer")]

    def __str__(self):
        return f"{self.customer_id}:{self.tag_id}"


class GroupMembership(models.Model):
    """A customer in a group.

    `group_set` and `exclusive` copy the group's set and its single-choice
    flag, so the database itself refuses a second group from a single-choice
    set, whatever path the write comes from.

    `valid_until`, when set, is the last day of a temporary membership (a
    30-day promotion group, say): the scheduler ends it the day after and logs
    that on the customer (see `patron.groups.schedule`).
    """

    # Indexed by membership_unique (customer, group) and membership_group_customer.
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="memberships", db_index=False
    )
    group = models.ForeignKey(
        "groups.Group", on_delete=models.PROTECT, related_name="memberships", db_index=False
    )
    group_set = models.ForeignKey("groups.GroupSet", on_delete=models.PROTECT, related_name="+")
    exclusive = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)
    valid_until = models.DateField(
        null=True, blank=True, help_text="Last day of a temporary membership; empty for no end."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "group"], name="membership_unique"),
            models.UniqueConstraint(
                fields=["customer", "group_set"],
                condition=Q(exclusive=True),
                name="membership_single_choice",
            ),
        ]
        indexes = [
            models.Index(fields=["group", "customer"], name="membership_group_customer"),
            models.Index(
                fields=["valid_until"],
                condition=Q(valid_until__isnull=False),
                name="membership_valid_until",
            ),
        ]

    def __str__(self):
        return f"{self.customer_id} in {self.group_id}"


class ScheduledMembership(models.Model):
    """A customer's membership of a group that starts on a later day.

    It is kept apart from `GroupMembership` so that lists, segments,
    restrictions, counts and exports do not count it before its first day.
    The scheduler turns it into a real membership on `valid_from` (with its
    `valid_until`) and deletes it; a start that breaks a group rule stays
    here with the reason in `failure` until someone cancels it.
    `group_name` keeps the name if the group itself is deleted meanwhile.
    """

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="scheduled_memberships"
    )
    group = models.ForeignKey(
        "groups.Group", null=True, on_delete=models.SET_NULL, related_name="scheduled_memberships"
    )
    group_name = models.CharField(max_length=200)
    valid_from = models.DateField(help_text="First day of the membership.")
    valid_until = models.DateField(
        null=True, blank=True, help_text="Last day of the membership; empty for no end."
    )
    failure = models.CharField(
        max_length=300, blank=True, help_text="Why the scheduler could not start it."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_label = models.CharField(max_length=200)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["valid_from", "id"]
        indexes = [
            models.Index(fields=["valid_from"], name="scheduledmembership_due"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "group"], name="scheduledmembership_unique"
            ),
        ]

    def __str__(self):
        return f"{self.customer_id} joins {self.group_name} on {self.valid_from}"


class StatusChangeQuerySet(models.QuerySet):
    def applied(self):
        return self.filter(state=StatusChange.State.APPLIED)

    def pending(self):
        return self.filter(state=StatusChange.State.PENDING)


class StatusChange(models.Model):
    """One change of a customer's status: from, to, reason, effective date, who.

    A change given a future effective date waits as `pending` until the
    scheduler applies it on the day (or someone cancels it first).
    """

    class State(models.TextChoices):
        APPLIED = "applied", "Applied"
        PENDING = "pending", "Pending"
        CANCELLED = "cancelled", "Cancelled"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.ForeignKey(
        "statuses.Status", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_status = models.ForeignKey("statuses.Status", on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(blank=True)
    effective_date = models.DateField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.APPLIED)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_by_label = models.CharField(max_length=200)
    applied_at = models.DateTimeField(null=True, blank=True)
    cancelled_by_label = models.CharField(max_length=200, blank=True)
    note = models.CharField(max_length=300, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    objects = StatusChangeQuerySet.as_manager()

    class Meta:
        ordering = ["-effective_date", "-id"]
        indexes = [
            models.Index(fields=["customer", "-id"], name="statuschange_customer"),
            models.Index(fields=["state", "effective_date"], name="statuschange_due"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(state="pending"),
                name="statuschange_one_pending",
            )
        ]

    def __str__(self):
        return f"{self.from_status or '…'} → {self.to_status} on {self.effective_date}"

    @property
    def is_pending(self) -> bool:
        return self.state == self.State.PENDING
