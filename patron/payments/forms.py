"""Forms of the payment pages: they validate input; the services write."""

import uuid

from django import forms
from django.utils import timezone

from patron.core.forms import PatronForm, PatronModelForm
from patron.payments.models import PaymentMethod


class PaymentForm(PatronForm):
    """Money received. `customer` is an account number (or fixed by the page);
    `idempotency_key` makes a double submit record one payment."""

    customer = forms.CharField(required=False, label="Customer account number", max_length=40)
    amount = forms.CharField(label="Amount", max_length=30)
    method = forms.ModelChoiceField(
        queryset=PaymentMethod.objects.filter(active=True), empty_label=None
    )
    received_date = forms.DateField(
        label="Received on",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    reference = forms.CharField(required=False, max_length=100)
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    idempotency_key = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, with_customer=True, **kwargs):
        kwargs.setdefault(
            "initial",
            {"received_date": timezone.localdate(), "idempotency_key": uuid.uuid4().hex},
        )
        super().__init__(*args, **kwargs)
        if not with_customer:
            del self.fields["customer"]


class RefundForm(PatronForm):
    amount = forms.CharField(label="Amount to refund", max_length=30)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
    idempotency_key = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"idempotency_key": uuid.uuid4().hex})
        super().__init__(*args, **kwargs)


class ReverseForm(PatronForm):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), help_text="A bounced cheque, a chargeback…"
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"idempotency_key": uuid.uuid4().hex})
        super().__init__(*args, **kwargs)


class PaymentMethodForm(PatronModelForm):
    class Meta:
        model = PaymentMethod
        fields = ["name", "position", "active"]
