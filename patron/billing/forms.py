"""The billing pages' forms: a new run, a credit note, a usage CSV, the list filters.

They only validate input; the job types and services decide and write.
"""

from __future__ import annotations

import csv
import io

from django import forms

from patron.billing.models import Invoice
from patron.core.forms import PatronForm

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")

USAGE_COLUMNS = (
    "account_number",
    "date",
    "description",
    "amount",
    "service",
    "quantity",
    "reference",
)
USAGE_REQUIRED = ("account_number", "date", "description", "amount")
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class BillingRunForm(PatronForm):
    billing_date = forms.DateField(
        label="Billing date",
        widget=DATE,
        help_text="The first day of the period billed; customers whose billing day it is.",
    )
    cutoff_date = forms.DateField(
        label="Cut-off",
        required=False,
        widget=DATE,
        help_text="Usage and one-off items up to this day. Empty: the day before the billing date.",
    )

    def job_params(self) -> dict:
        data = self.cleaned_data
        params = {"billing_date": data["billing_date"].isoformat()}
        if data.get("cutoff_date"):
            params["cutoff_date"] = data["cutoff_date"].isoformat()
        return params


class CreditNoteForm(PatronForm):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Printed on the credit note and kept in the event log.",
        error_messages={"required": "Say why the invoice is credited; it is on the note."},
    )
    lines = forms.TypedMultipleChoiceField(
        label="Lines to credit",
        coerce=int,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        error_messages={"required": "Choose at least one line to credit."},
    )

    def __init__(self, *args, invoice: Invoice, lines, credited: set[int], **kwargs):
        super().__init__(*args, **kwargs)
        open_lines = [line for line in lines if line.pk not in credited]
        self.fields["lines"].choices = [(line.pk, line.description) for line in open_lines]
        self.fields["lines"].widget.attrs["class"] = "form-check-input"
        if not self.is_bound:
            self.initial["lines"] = [line.pk for line in open_lines]


class UsageUploadForm(PatronForm):
    file = forms.FileField(
        label="CSV file",
        help_text="Columns: " + ", ".join(USAGE_COLUMNS) + ". The first line names the columns.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("The file is larger than 20 MB; split it.")
        raw = upload.read()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError(
                "The file is not UTF-8 text; save it as “CSV UTF-8” and upload it again."
            ) from None
        reader = csv.DictReader(io.StringIO(text))
        header = [(name or "").strip().lower() for name in (reader.fieldnames or [])]
        if not header:
            raise forms.ValidationError("The file is empty.")
        unknown = [name for name in header if name not in USAGE_COLUMNS]
        if unknown:
            raise forms.ValidationError(
                f"Unknown column{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}. "
                f"Use {', '.join(USAGE_COLUMNS)}."
            )
        missing = [name for name in USAGE_REQUIRED if name not in header]
        if missing:
            raise forms.ValidationError(f"The file has no {', '.join(missing)} column.")
        reader.fieldnames = header
        rows, lines = [], []
        try:
            for record in reader:
                if None in record:
                    raise forms.ValidationError(
                        f"Line {reader.line_num} has more values than the header has columns."
                    )
                values = {k: (v or "").strip() for k, v in record.items()}
                if not any(values.values()):
                    continue
                rows.append({k: v for k, v in values.items() if v != ""})
                lines.append(reader.line_num)
        except csv.Error as exc:
            raise forms.ValidationError(f"The file is not valid CSV: {exc}.") from None
        if not rows:
            raise forms.ValidationError("The file has no usage charges under its header.")
        # The file's line of each row, to name bad rows as a spreadsheet shows them.
        self.row_lines = lines
        return rows


class UsageFilterForm(PatronForm):
    customer = forms.CharField(
        required=False,
        label="Customer",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Account number or name…"}),
    )
    billed = forms.ChoiceField(
        required=False,
        choices=[("", "Any"), ("no", "Not billed yet"), ("yes", "Billed")],
    )


PAYMENT_STATES = [
    ("", "Any"),
    ("open", "Open"),
    ("part_paid", "Part-paid"),
    ("paid", "Paid"),
    ("issued", "Issued (credit notes)"),
]


class InvoiceFilterForm(PatronForm):
    """The invoice list's filters, used until the API's InvoiceFilterSet exists."""

    customer = forms.IntegerField(required=False, widget=forms.HiddenInput)
    q = forms.CharField(
        required=False,
        label="Search",
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "Number, account number or name…"}
        ),
    )
    period = forms.RegexField(
        regex=r"^\d{4}-(0[1-9]|1[0-2])$",
        required=False,
        label="Period",
        widget=forms.TextInput(attrs={"placeholder": "YYYY-MM"}),
        error_messages={"invalid": "Write the period as YYYY-MM, e.g. 2026-12."},
    )
    kind = forms.ChoiceField(required=False, choices=[("", "Any"), *Invoice.Kind.choices])
    state = forms.ChoiceField(required=False, choices=PAYMENT_STATES, label="Payment")

    def apply(self, invoices):
        from django.db.models import F, Q

        data = self.cleaned_data
        if data.get("customer"):
            invoices = invoices.filter(customer_id=data["customer"])
        text = (data.get("q") or "").strip()
        if text:
            invoices = invoices.filter(
                Q(number__icontains=text)
                | Q(customer__account_number__iexact=text)
                | Q(customer__name__icontains=text)
            )
        if data.get("period"):
            import calendar
            import datetime

            year, month = (int(part) for part in data["period"].split("-"))
            first = datetime.date(year, month, 1)
            last = first.replace(day=calendar.monthrange(year, month)[1])
            # Invoices whose period overlaps the month, as the API's filter reads it.
            invoices = invoices.filter(period_start__lte=last, period_end__gte=first)
        if data.get("kind"):
            invoices = invoices.filter(kind=data["kind"])
        state = data.get("state")
        invoice = Q(kind=Invoice.Kind.INVOICE)
        if state == "issued":
            invoices = invoices.filter(kind=Invoice.Kind.CREDIT_NOTE)
        elif state == "open":
            invoices = invoices.filter(invoice, amount_paid__lte=0)
        elif state == "part_paid":
            invoices = invoices.filter(invoice, amount_paid__gt=0, amount_paid__lt=F("gross"))
        elif state == "paid":
            invoices = invoices.filter(invoice, amount_paid__gt=0, amount_paid__gte=F("gross"))
        return invoices
