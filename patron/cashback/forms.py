"""The cashback form: mode, amount (exact decimals), the required comment, and whom."""

from django import forms

from patron.cashback.models import Mode
from patron.core.forms import PatronForm


class CashbackForm(PatronForm):
    mode = forms.ChoiceField(choices=Mode.choices, widget=forms.RadioSelect, initial=Mode.RELATIVE)
    amount = forms.CharField(
        max_length=30,
        help_text="Exact, in the currency (5.00). Relative: negative withdraws.",
    )
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=500,
        help_text="Required; kept with every entry.",
    )
    group = forms.IntegerField(required=False, widget=forms.HiddenInput)
    target = forms.CharField(required=False, widget=forms.HiddenInput)
