from django import forms

from patron.core.forms import PatronModelForm
from patron.statuses.models import Status

DISPLAY_CLASSES = [
    ("", "None (grey)"),
    ("success", "Green (success)"),
    ("info", "Blue (info)"),
    ("warning", "Amber (warning)"),
    ("danger", "Red (danger)"),
    ("secondary", "Grey (secondary)"),
]

SECTIONS = [
    ("Name and display", ["name", "short_name", "availability", "display_class", "position"]),
    (
        "Status",
        [
            "is_active",
            "is_suspended",
            "crm_only",
            "portal_login",
            "visible_in_backend",
            "related_service_status",
            "related_number_status",
            "related_feature_status",
            "next_status",
            "next_status_days",
        ],
    ),
    (
        "Billing",
        [
            "billable",
            "send_correspondence",
            "ignore_invoice_thresholds",
            "can_have_calls",
            "can_have_fixed_charges",
            "process_automatic_payments",
            "override_invoice_message",
        ],
    ),
    (
        "Final bill",
        [
            "final_invoice",
            "final_ignore_cutoff_date",
            "final_ignore_billable_status",
            "final_calls_ignore_cutoff_date",
            "final_calls_ignore_billable_status",
        ],
    ),
    ("Update requirements", ["require_reason", "require_date", "preset_reasons"]),
]


class StatusForm(PatronModelForm):
    """Every field of a status, in the sections staff know from the status page."""

    display_class = forms.ChoiceField(
        choices=DISPLAY_CLASSES,
        required=False,
        label="Display class",
        help_text="The colour of this status's badge in lists and on the overview.",
    )
    preset_reasons = forms.CharField(
        required=False,
        label="Preset reasons",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One per line, in the order staff see them when they change a customer "
        "to this status; they can still type their own.",
    )

    class Meta:
        model = Status
        fields = [name for _, names in SECTIONS for name in names if name != "preset_reasons"]
        widgets = {"override_invoice_message": forms.Textarea(attrs={"rows": 2})}
        labels = {
            "name": "Status",
            "crm_only": "CRM only",
            "short_name": "Short name",
            "position": "Display position",
            "portal_login": "Has portal login access",
            "next_status_days": "Next status after (days)",
        }
        help_texts = {
            "short_name": "Used where space is tight, e.g. “SUSP”.",
            "position": "Lower numbers come first in lists and pickers.",
            "next_status": "Customers move on to it automatically after the days given.",
            "override_invoice_message": "Printed on invoices of customers in this status.",
            "related_service_status": "Applied to the customer's services.",
            "related_number_status": "Applied to the customer's numbers.",
            "related_feature_status": "Applied to the customer's features.",
        }

    def __init__(self, *args, next_status_queryset=None, **kwargs):
        super().__init__(*args, **kwargs)
        queryset = next_status_queryset if next_status_queryset is not None else Status.objects
        next_status = self.fields["next_status"]
        next_status.queryset = queryset.order_by("position", "name")
        next_status.empty_label = "None: customers stay in this status"
        if self.instance.pk:
            # The picker leaves the status itself out; a hand-made post naming it
            # still validates as a choice, so the model's own rule explains the refusal.
            own = str(self.instance.pk)
            next_status.widget.choices = [c for c in next_status.choices if str(c[0]) != own]
        if self.instance.pk:
            self.fields["preset_reasons"].initial = "\n".join(
                r.text for r in self.instance.reasons.all()
            )
        current = self.instance.display_class
        if current and current not in dict(DISPLAY_CLASSES):
            # A class set through the API stays selectable instead of being wiped.
            self.fields["display_class"].choices = [*DISPLAY_CLASSES, (current, current)]

    def clean_preset_reasons(self):
        from patron.core.errors import ValidationError
        from patron.statuses.services import clean_reasons

        try:
            return clean_reasons((self.cleaned_data.get("preset_reasons") or "").splitlines())
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from None

    @property
    def service_data(self) -> dict:
        """The model fields and the preset reasons, as the status services take them."""
        return {**self.model_data, "reasons": self.cleaned_data["preset_reasons"]}

    @property
    def sections(self):
        return [(title, [self[name] for name in names]) for title, names in SECTIONS]
