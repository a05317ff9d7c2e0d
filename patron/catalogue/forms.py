from django import forms
from django.conf import settings

from patron.catalogue.models import InventoryType, Service, TaxRate
from patron.core.forms import PatronModelForm
from patron.core.money import money_form_field
from patron.groups.models import Group


class TaxRateForm(PatronModelForm):
    class Meta:
        model = TaxRate
        fields = ["name", "rate", "is_default", "archived", "position"]
        labels = {"rate": "Rate (%)", "is_default": "Default for new services"}


class InventoryTypeForm(PatronModelForm):
    class Meta:
        model = InventoryType
        fields = ["name", "description", "archived", "position"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}


class ServiceForm(PatronModelForm):
    price = money_form_field(allow_negative=False)
    allowed_groups = forms.ModelMultipleChoiceField(
        queryset=Group.objects.filter(archived=False),
        required=False,
        help_text="Empty: any customer. Otherwise members of these groups or their subgroups.",
    )

    class Meta:
        model = Service
        fields = [
            "code",
            "name",
            "kind",
            "price",
            "unit",
            "tax_rate",
            "inventory_type",
            "allowed_groups",
            "description",
            "archived",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        instance = self.instance
        gross = instance.price_includes_tax if instance.pk else settings.PATRON_PRICES_INCLUDE_TAX
        self.fields["price"].help_text = (
            "Including tax (gross)." if gross else "Before tax (net); tax is added on invoices."
        )
        self.fields["tax_rate"].queryset = TaxRate.objects.filter(archived=False) | (
            TaxRate.objects.filter(pk=instance.tax_rate_id)
            if instance.pk
            else TaxRate.objects.none()
        )
        self.fields["tax_rate"].required = False
        self.fields["inventory_type"].queryset = InventoryType.objects.filter(archived=False)
        if instance.pk:
            self.initial["allowed_groups"] = list(instance.allowed_groups.all())
        else:
            default = TaxRate.objects.filter(is_default=True).first()
            if default is not None:
                self.initial.setdefault("tax_rate", default.pk)

    @property
    def model_data(self) -> dict:
        data = super().model_data
        data["allowed_groups"] = list(self.cleaned_data.get("allowed_groups") or [])
        return data

    def _post_clean(self):
        # The service validates the model (and sets the many-to-many groups itself).
        return None
