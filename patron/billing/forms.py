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
