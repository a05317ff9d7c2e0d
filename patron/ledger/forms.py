from django import forms

from patron.core.forms import PatronForm
from patron.core.money import money_form_field


class AdjustmentForm(PatronForm):
    """A manual adjustment: positive means the customer owes more."""

    amount = money_form_field(
        label="Amount",
        help_text="Positive: the customer owes more. Negative: they owe less (a credit).",
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text="Required: kept with the entry and in the event log.",
    )
    effective_date = forms.DateField(
        label="Effective date",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
