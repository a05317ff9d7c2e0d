"""The bulk tag form posted from the customer list."""

from django import forms

from patron.core.forms import PatronForm
from patron.tags.models import Tag


class BulkTagForm(PatronForm):
    """A tag, add or remove, and the customer list's filter as its query string."""

    tag = forms.ModelChoiceField(queryset=Tag.objects.none(), label="Tag")
    action = forms.ChoiceField(choices=[("add", "Add the tag"), ("remove", "Remove the tag")])
    query = forms.CharField(required=False, label="Filter")
    customers = forms.CharField(required=False, label="Customer ids")

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tag"].queryset = Tag.objects.restrict(user)

    def clean_customers(self):
        raw = self.cleaned_data.get("customers", "")
        if not raw.strip():
            return None
        try:
            return [int(v) for v in raw.replace(",", " ").split()]
        except ValueError as exc:
            raise forms.ValidationError(
                "Give customer ids as numbers separated by commas."
            ) from exc
