import re

from django import forms
from django.utils import timezone

from patron.calls.models import CallLog, format_duration
from patron.core.forms import PatronModelForm

DURATION = re.compile(r"^(?:(\d+):)?(\d{1,3}):([0-5]\d)$")


class DurationField(forms.CharField):
    """Minutes and seconds ("4:30", "1:05:00"); a plain number means minutes."""

    default_error_messages = {
        "invalid": "Enter the duration as minutes:seconds, like 4:30 (or a number of minutes)."
    }

    def prepare_value(self, value):
        if isinstance(value, int):
            return format_duration(value)
        return value

    def to_python(self, value):
        text = (super().to_python(value) or "").strip()
        if not text:
            return 0
        if text.isdigit():
            return int(text) * 60
        match = DURATION.match(text)
        if not match:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        hours, minutes, seconds = (int(g or 0) for g in match.groups())
        return hours * 3600 + minutes * 60 + seconds


class CallLogForm(PatronModelForm):
    """Every field has a default, so "Log a call" then "Save" is enough."""

    duration = DurationField(
        required=False, widget=forms.TextInput(attrs={"placeholder": "m:ss, e.g. 4:30"})
    )
    started_at = forms.DateTimeField(
        label="Started",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    class Meta:
        model = CallLog
        fields = ["direction", "contact", "outcome", "started_at", "duration", "summary"]
        widgets = {
            "summary": forms.Textarea(attrs={"rows": 2, "placeholder": "What was it about?"})
        }

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = customer.contacts.all()
        self.fields["contact"].empty_label = "—"
        self.fields["direction"].required = False
        self.fields["outcome"].required = False
        if not self.instance.pk and not self.is_bound:
            self.initial.setdefault("started_at", timezone.localtime().replace(second=0))
            primary = next((c for c in self.fields["contact"].queryset if c.is_primary), None)
            if primary is not None:
                self.initial.setdefault("contact", primary.pk)

    def clean(self):
        cleaned = super().clean()
        for name in ("direction", "outcome"):
            if not cleaned.get(name):
                cleaned[name] = CallLog._meta.get_field(name).default
        if not cleaned.get("started_at"):
            cleaned["started_at"] = self.instance.started_at if self.instance.pk else timezone.now()
        return cleaned

    def _post_clean(self):
        # The service validates the model itself.
        return None
