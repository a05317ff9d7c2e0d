"""The FilterSets of billing: invoices (the invoice list page and `/api/invoices/`) and
usage charges (`/api/usage-charges/`).

Customers are chosen by id (a number, not a select: there may be a million of
them); every queryset is already narrowed by `restrict()`, so a filter never
shows more than the user may see.
"""

import calendar
import datetime
import re

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import F, Q

from patron.billing.models import BillingRun, Invoice, UsageCharge
from patron.core.filters import StyledFilterSet

PAYMENT_STATES = [
    ("open", "Open"),
    ("part_paid", "Part-paid"),
    ("paid", "Paid"),
    ("issued", "Issued (credit notes)"),
]
_MONTH = re.compile(r"\s*(\d{4})-(\d{1,2})\s*")


class MonthField(forms.CharField):
    """A month written YYYY-MM (what `<input type="month">` sends), cleaned to its first day."""

    def to_python(self, value):
        text = (super().to_python(value) or "").strip()
        if not text:
            return None
        match = _MONTH.fullmatch(text)
        if match is None or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1:
            raise ValidationError(
                "“%(value)s” is not a month; write it as YYYY-MM, e.g. 2026-12.",
                code="invalid",
                params={"value": text},
            )
        return datetime.date(int(match.group(1)), int(match.group(2)), 1)


class MonthFilter(django_filters.CharFilter):
    field_class = MonthField


def month_end(first: datetime.date) -> datetime.date:
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


class InvoiceFilterSet(StyledFilterSet):
    """Invoices and credit notes: by customer, a search (`q`: number, account number or
    customer name), kind, payment state, the month their period overlaps, issue dates
    (both ends included) and billing run."""

    # The list page sets it from a customer's overview; a number, never a select.
    customer = django_filters.NumberFilter(
        field_name="customer_id", label="Customer id", widget=forms.HiddenInput
    )
    q = django_filters.CharFilter(
        method="search",
        label="Search",
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "Number, account number or name…"}
        ),
    )
    kind = django_filters.ChoiceFilter(choices=Invoice.Kind.choices)
    state = django_filters.ChoiceFilter(
        choices=PAYMENT_STATES, method="filter_state", label="Payment"
    )
    period = MonthFilter(
        method="filter_period",
        label="Period",
        help_text="A month (YYYY-MM): invoices whose period overlaps it.",
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM"}),
    )
    issue_date_after = django_filters.DateFilter(
        field_name="issue_date",
        lookup_expr="gte",
        label="Issued from",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    issue_date_before = django_filters.DateFilter(
        field_name="issue_date",
        lookup_expr="lte",
        label="Issued until",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    run = django_filters.ModelChoiceFilter(queryset=BillingRun.objects.all(), label="Billing run")

    class Meta:
        model = Invoice
        fields = [
            "customer",
            "q",
            "kind",
            "state",
            "period",
            "issue_date_after",
            "issue_date_before",
            "run",
        ]

    def search(self, queryset, name, value):
        text = (value or "").strip()
        if not text:
            return queryset
        return queryset.filter(
            Q(number__icontains=text)
            | Q(customer__account_number__iexact=text)
            | Q(customer__name__icontains=text)
        )

    def filter_state(self, queryset, name, value):
        """`Invoice.payment_state`: open, part-paid or paid invoices; issued credit notes."""
        if value == "issued":
            return queryset.filter(kind=Invoice.Kind.CREDIT_NOTE)
        invoices = queryset.filter(kind=Invoice.Kind.INVOICE)
        if value == "open":
            return invoices.filter(amount_paid__lte=0)
        if value == "part_paid":
            return invoices.filter(amount_paid__gt=0, amount_paid__lt=F("gross"))
        if value == "paid":
            return invoices.filter(amount_paid__gt=0, amount_paid__gte=F("gross"))
        return queryset

    def filter_period(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(period_start__lte=month_end(value), period_end__gte=value)


BILLED = forms.Select(choices=[("", "Any"), ("false", "Not billed yet"), ("true", "Billed")])


class UsageChargeFilterSet(StyledFilterSet):
    """Usage charges: by customer, date (both ends included) and whether a run billed them."""

    customer = django_filters.NumberFilter(field_name="customer_id", label="Customer id")
    date_after = django_filters.DateFilter(
        field_name="date", lookup_expr="gte", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_before = django_filters.DateFilter(
        field_name="date", lookup_expr="lte", widget=forms.DateInput(attrs={"type": "date"})
    )
    billed = django_filters.BooleanFilter(method="filter_billed", widget=BILLED)

    class Meta:
        model = UsageCharge
        fields = ["customer", "date_after", "date_before", "billed"]

    def filter_billed(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(invoice_line__isnull=not value)
