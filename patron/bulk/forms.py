"""Forms of the bulk pages: the bulk action page, and the bulk tag form of the customer list."""

import json

from django import forms

from patron.bulk.actions import ACTIONS
from patron.core.forms import PatronForm
from patron.customers.forms import status_choices
from patron.departments.models import Department
from patron.groups.models import Group
from patron.statuses.models import Status
from patron.tags.models import Tag

# Which of the form's fields each action uses; the page shows only those.
ACTION_FIELDS = {
    "add_tag": ["tag"],
    "remove_tag": ["tag"],
    "set_group": ["group"],
    "change_status": ["status", "reason", "effective_date"],
    "assign_department": ["department"],
    "archive": [],
    "restore": [],
}


class BulkActionForm(PatronForm):
    """The action and its parameters; the customers travel in `target` as JSON.

    The form only picks values the user may see; `bulk_params` checks them
    again (with the customers) before anything is previewed or queued.
    """

    action = forms.ChoiceField(choices=[(name, a.label) for name, a in ACTIONS.items()])
    tag = forms.ModelChoiceField(queryset=Tag.objects.all(), required=False)
    group = forms.ModelChoiceField(
        queryset=Group.objects.filter(archived=False, segment__isnull=True).select_related(
            "group_set"
        ),
        required=False,
    )
    status = forms.ModelChoiceField(queryset=Status.objects.none(), required=False)
    reason = forms.CharField(required=False, max_length=500)
    effective_date = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=(
            "Leave empty for today. A future date schedules the change for each customer "
            "on that day. Required by some statuses."
        ),
    )
    department = forms.ModelChoiceField(
        queryset=Department.objects.all(), required=False, empty_label="(no department)"
    )
    target = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        self.fields["status"].queryset = status_choices(user)

    def clean_target(self):
        try:
            target = json.loads(self.cleaned_data["target"])
        except (ValueError, RecursionError):  # RecursionError: nested too deeply to read
            target = None
        if not isinstance(target, dict):
            raise forms.ValidationError("Choose the customers again from the customer list.")
        return target

    def clean(self):
        data = super().clean()
        action = data.get("action")
        for name in ACTION_FIELDS.get(action, []):
            if name in ("tag", "group", "status") and not data.get(name):
                self.add_error(name, "Choose one.")
        return data

    def job_params(self) -> dict:
        """The cleaned values as `bulk_params` takes them."""
        data = self.cleaned_data
        params = {"target": data["target"]}
        for name in ACTION_FIELDS[data["action"]]:
            value = data.get(name)
            if hasattr(value, "pk"):
                value = value.pk
            elif hasattr(value, "isoformat"):
                value = value.isoformat()
            params[name] = value if value is not None else ""
        return params


class BulkTagForm(PatronForm):
    """A tag, add or remove, and the customer list's filter as its query string."""

    tag = forms.ModelChoiceField(queryset=Tag.objects.all(), label="Tag")
    action = forms.ChoiceField(choices=[("add", "Add the tag"), ("remove", "Remove the tag")])
    query = forms.CharField(required=False, label="Filter")
    customers = forms.CharField(required=False, label="Customer ids")

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
