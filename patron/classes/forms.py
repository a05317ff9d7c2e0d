from django import forms

from patron.classes.models import CustomerClass
from patron.core.forms import PatronModelForm


class CustomerClassForm(PatronModelForm):
    class Meta:
        model = CustomerClass
        fields = ["name", "description", "retention_days", "verification_required", "position"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}
        labels = {
            "retention_days": "Retention (days)",
            "verification_required": "Identity verification required",
            "position": "Display position",
        }
