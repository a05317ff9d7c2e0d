"""Customer forms. They validate input; the services in `services/` write."""

from django import forms
from django.db.models import Case, Value, When

from patron.core.emails import InternationalEmailFormField
from patron.core.errors import ValidationError
from patron.core.forms import PatronForm, PatronModelForm
from patron.customers.countries import country_choices, country_name, home_country, parse_country
from patron.customers.models import Contact, Customer
from patron.groups.models import Group
from patron.statuses.models import Status
from patron.tags.models import Tag

ACCOUNT_FIELDS = [
    "name",
    "kind",
    "first_name",
    "last_name",
    "company_name",
    "tax_number",
    "external_reference",
    "customer_class",
    "department",
]
SERVICE_ADDRESS_FIELDS = [
    "service_street",
    "service_city",
    "service_postcode",
    "service_region",
    "service_country",
    "latitude",
    "longitude",
]
BILLING_ADDRESS_FIELDS = [
    "billing_same_as_service",
    "billing_street",
    "billing_city",
    "billing_postcode",
    "billing_region",
    "billing_country",
    "billing_day",
]
PROFILE_FIELDS = [*ACCOUNT_FIELDS, *SERVICE_ADDRESS_FIELDS, *BILLING_ADDRESS_FIELDS]
REGION_HELP = (
    "An ISO 3166-2 code or name (US-CA or California) where the country has them; "
    "free text elsewhere."
)


class CountryField(forms.CharField):
    """A country chosen from the ISO list; a posted code or name is read by
    `parse_country`, so "UK" gets "did you mean GB?" rather than "invalid choice".
    Empty stays empty: the model fills in what an empty country means."""

    def __init__(self, *, blank_label: str = "", **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 100)
        super().__init__(**kwargs)
        self.widget = forms.Select(choices=[("", blank_label), *country_choices()])

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return ""
        try:
            return parse_country(value)
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from exc


def home_country_label() -> str:
    home = home_country()
    return f"— home country ({country_name(home)}) —" if home else "— choose —"


def status_choices(user):
    """Assignable statuses, headline ones first."""
    return (
        Status.objects.restrict(user)
        .assignable()
        .annotate(
            headline_first=Case(
                When(availability=Status.Availability.HEADLINE, then=Value(0)), default=Value(1)
            )
        )
        .order_by("headline_first", "position", "name")
    )


class CustomerForm(PatronModelForm):
    """The account profile. On a new account it also takes status, tags,
    groups and a first contact."""

    referred_by_account = forms.CharField(
        label="Referred by (account number)", required=False, max_length=30
    )
    status = forms.ModelChoiceField(queryset=Status.objects.none(), required=False)
    tags = forms.ModelMultipleChoiceField(queryset=Tag.objects.all(), required=False)
    groups = forms.ModelMultipleChoiceField(
        queryset=Group.objects.active().select_related("group_set"), required=False
    )
    contact_name = forms.CharField(label="Contact name", required=False, max_length=200)
    contact_email = InternationalEmailFormField(label="Contact email", required=False)
    contact_phone = forms.CharField(label="Contact phone", required=False, max_length=30)

    class Meta:
        model = Customer
        fields = PROFILE_FIELDS
        help_texts = {
            "name": "For a person with a first or last name, and a company with a company "
            "name, the name is made from them.",
            "service_region": REGION_HELP,
            "billing_region": REGION_HELP,
            "billing_country": "Empty: the service address's country.",
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        self.user = user
        self.is_new = not self.instance.pk
        self.fields["name"].required = False
        self.fields["service_country"] = CountryField(
            label="Country", blank_label=home_country_label()
        )
        self.fields["billing_country"] = CountryField(
            label="Billing country",
            blank_label="— as the service address —",
            help_text=self._meta.help_texts["billing_country"],
        )
        if self.is_new:
            status = self.fields["status"]
            # Offer the assignable statuses but accept any the user can see, so
            # a historical one (an old tab, a crafted post) meets the service's
            # specific refusal rather than "Select a valid choice".
            status.queryset = status_choices(user)
            status.required = True
            status.initial = status.queryset.first()
            status.choices = [choice for choice in status.choices if choice[0] != ""]
            status.queryset = Status.objects.restrict(user)
        else:
            for name in (
                "status",
                "tags",
                "groups",
                "contact_name",
                "contact_email",
                "contact_phone",
            ):
                del self.fields[name]
            if self.instance.referred_by_id:
                self.fields[
                    "referred_by_account"
                ].initial = self.instance.referred_by.account_number

    @property
    def sections(self):
        def bound(names):
            return [self[n] for n in names if n in self.fields]

        sections = [
            ("Account", bound([*ACCOUNT_FIELDS[:2], "status", *ACCOUNT_FIELDS[2:]])),
            ("Service address", bound(SERVICE_ADDRESS_FIELDS)),
            ("Billing address", bound(BILLING_ADDRESS_FIELDS)),
            ("Other", bound(["referred_by_account", "tags", "groups"])),
        ]
        if self.is_new:
            sections.append(
                ("First contact", bound(["contact_name", "contact_email", "contact_phone"]))
            )
        return sections

    def clean_referred_by_account(self):
        number = self.cleaned_data["referred_by_account"].strip()
        if not number:
            return None
        customer = (
            Customer.objects.restrict(self.user).filter(account_number__iexact=number).first()
        )
        if customer is None:
            raise forms.ValidationError(f"No customer has the account number “{number}”.")
        if customer.pk == self.instance.pk:
            raise forms.ValidationError("A customer cannot be referred by themselves.")
        return customer

    def clean(self):
        cleaned = super().clean()
        named = any(
            (cleaned.get(f) or "").strip()
            for f in ("name", "first_name", "last_name", "company_name")
        )
        if not named:
            self.add_error("name", "Give the customer a name, or a first and last name.")
        has_details = cleaned.get("contact_email") or cleaned.get("contact_phone")
        if self.is_new and has_details and not cleaned.get("contact_name"):
            self.add_error("contact_name", "Give the contact a name.")
        return cleaned

    @property
    def profile_data(self) -> dict:
        data = {k: self.cleaned_data[k] for k in PROFILE_FIELDS}
        data["referred_by"] = self.cleaned_data.get("referred_by_account")
        return data

    @property
    def first_contact(self) -> list[dict]:
        if not self.cleaned_data.get("contact_name"):
            return []
        return [
            {
                "name": self.cleaned_data["contact_name"],
                "email": self.cleaned_data.get("contact_email", ""),
                "phone": self.cleaned_data.get("contact_phone", ""),
            }
        ]


class ContactForm(PatronModelForm):
    """A contact; its numbers are read in its country (empty: the customer's)."""

    class Meta:
        model = Contact
        fields = [
            "name",
            "first_name",
            "last_name",
            "title",
            "email",
            "country",
            "phone",
            "mobile",
            "fax",
            "phone_unverified",
            "mobile_unverified",
            "fax_unverified",
            "is_primary",
            "email_opt_out",
            "sms_opt_out",
            "portal_username",
        ]
        labels = {
            "phone_unverified": "Keep the phone number as written if it is not valid",
            "mobile_unverified": "Keep the mobile number as written if it is not valid",
            "fax_unverified": "Keep the fax number as written if it is not valid",
        }
        help_texts = {
            "name": "Made from the first and last name when either is given.",
            "phone": "As dialled in the contact's country, or with the country code, "
            "e.g. +44 113 496 0000; stored as +441134960000.",
            "phone_unverified": "It is then marked unverified; a valid number is always "
            "stored in international form.",
            "mobile_unverified": "",
            "fax_unverified": "",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].required = False
        self.fields["country"] = CountryField(
            label="Country",
            blank_label="— the customer's country —",
            help_text=Contact._meta.get_field("country").help_text,
        )

    def clean(self):
        cleaned = super().clean()
        if not any((cleaned.get(f) or "").strip() for f in ("name", "first_name", "last_name")):
            self.add_error("name", "Give the contact a name, or a first and last name.")
        return cleaned


class StatusSelect(forms.Select):
    """The status picker; each option says what its status requires, so the page
    can mark the reason and date as required before the form is sent."""

    def __init__(self, *args, requirements=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.requirements = requirements or {}

    def create_option(self, name, value, *args, **kwargs):
        option = super().create_option(name, value, *args, **kwargs)
        reason, date = self.requirements.get(str(getattr(value, "value", value)), (False, False))
        if reason:
            option["attrs"]["data-require-reason"] = "true"
        if date:
            option["attrs"]["data-require-date"] = "true"
        return option


class StatusChangeForm(PatronForm):
    """A status change: the status, a preset or typed reason, an effective date.

    Whether the reason and the date are required is the target status's rule,
    checked by the service (`customer_status_change`), so each field gets one
    message however the change arrives.
    """

    status = forms.ModelChoiceField(queryset=Status.objects.none(), label="New status")
    preset_reason = forms.ChoiceField(
        required=False,
        label="Preset reason",
        help_text="Fills in the reason; you can add to it.",
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    effective_date = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Leave empty for today. A future date schedules the change for that day.",
    )

    def __init__(self, *args, user, customer, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["status"]
        # Offer the assignable statuses, but accept any the user can see, so a
        # historical one (an old tab, a crafted post) meets the service's
        # specific refusal instead of "Select a valid choice".
        offered = list(
            status_choices(user).exclude(pk=customer.status_id).prefetch_related("reasons")
        )
        field.widget = StatusSelect(
            attrs=field.widget.attrs,
            requirements={str(s.pk): (s.require_reason, s.require_date) for s in offered},
        )
        field.queryset = status_choices(user).exclude(pk=customer.status_id)
        field.choices = [("", "Choose a status…")] + [(s.pk, str(s)) for s in offered]
        field.queryset = Status.objects.restrict(user)
        field.widget.attrs["data-status-select"] = "true"
        # Preset reasons grouped by status; the page shows only the chosen status's.
        self.preset_reasons = {
            str(r.pk): (r.status_id, r.text) for s in offered for r in s.reasons.all()
        }
        preset = self.fields["preset_reason"]
        preset.choices = [("", "Choose a preset reason…")] + [
            (str(s), [(str(r.pk), r.text) for r in s.reasons.all()])
            for s in offered
            if s.reasons.all()
        ]
        preset.widget.attrs["data-preset-reasons"] = "true"
        if not self.preset_reasons:
            del self.fields["preset_reason"]

    def clean(self):
        cleaned = super().clean()
        chosen = cleaned.get("preset_reason")
        status = cleaned.get("status")
        if chosen and status is not None:
            status_id, text = self.preset_reasons[chosen]
            if status_id != status.pk:
                self.add_error("preset_reason", f"That reason is not one of “{status}”'s.")
            elif not (cleaned.get("reason") or "").strip():
                cleaned["reason"] = text
            elif text not in cleaned["reason"]:
                cleaned["reason"] = f"{text}: {cleaned['reason'].strip()}"
        return cleaned


class NotesForm(PatronForm):
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


def _date_field(label: str, **kwargs) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": f"Enter the {label} date as a date, e.g. 2026-12-31."},
        **kwargs,
    )


class GroupAddForm(PatronForm):
    """Add the customer to a group, now or from a later day, optionally until a day."""

    name = forms.CharField(required=False, max_length=200)
    valid_from = _date_field("From", help_text="Empty for today; a later day schedules it.")
    valid_until = _date_field("Until", help_text="Last day; empty for no end.")

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("valid_from"), cleaned.get("valid_until")
        if start and end and end < start:
            self.add_error(
                "valid_until",
                f"The last day ({end.isoformat()}) cannot be before the first day "
                f"({start.isoformat()}).",
            )
        return cleaned


class MembershipValidityForm(PatronForm):
    """Change or clear the last day of a membership."""

    valid_until = _date_field("Until", help_text="Last day; empty for no end.")
