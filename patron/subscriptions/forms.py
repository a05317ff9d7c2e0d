from django import forms

from patron.catalogue.models import Service
from patron.core.forms import PatronForm, PatronModelForm
from patron.core.money import money_form_field
from patron.subscriptions.models import CustomerService

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class CustomerServiceForm(PatronModelForm):
    """Add (with `service`) or change a customer's service."""

    service = forms.ModelChoiceField(queryset=Service.objects.filter(archived=False))
    quantity = forms.IntegerField(initial=1)
    price_override = money_form_field(
        label="Price override",
        required=False,
        allow_negative=False,
        help_text="Empty: the catalogue price.",
    )

    class Meta:
        model = CustomerService
        fields = [
            "service",
            "quantity",
            "price_override",
            "start_date",
            "end_date",
            "status",
            "note",
        ]
        widgets = {"start_date": DATE, "end_date": DATE}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            del self.fields["service"]
            self.fields["status"].choices = [
                c for c in CustomerService.Status.choices if c[0] != CustomerService.Status.ENDED
            ]
        else:
            del self.fields["status"]
            self.fields["start_date"].required = False
            self.fields["start_date"].help_text = "Empty: today."

    def _post_clean(self):
        # The service validates the model.
        return None


class EndServiceForm(PatronForm):
    end_date = forms.DateField(
        label="Last day", required=False, widget=DATE, help_text="Empty: today."
    )
    reason = forms.CharField(required=False)
