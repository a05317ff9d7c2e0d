"""The definition form (admins) and the Custom tab form (built from the definitions)."""

from django import forms
from django.core.exceptions import ValidationError

from patron.core.forms import PatronForm, PatronModelForm
from patron.customfields.models import CustomField
from patron.customfields.values import TEXT_MAX_LENGTH, parse_value


class ChoicesField(forms.CharField):
    """One choice per line in the form; a list of strings in the model."""

    widget = forms.Textarea

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return "\n".join(value)
        return value

    def to_python(self, value):
        text = super().to_python(value) or ""
        return [line.strip() for line in text.splitlines() if line.strip()]


class CustomFieldForm(PatronModelForm):
    choices = ChoicesField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="For single-choice fields: one choice per line, in order.",
    )

    class Meta:
        model = CustomField
        fields = [
            "label",
            "key",
            "field_type",
            "choices",
            "help_text",
            "required",
            "show_on_overview",
            "position",
            "archived",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["key"].required = False
        if not self.instance.pk:
            self.fields["key"].help_text = "Leave empty to make one from the label."

    def validate_unique(self):
        # The service names the clashing field; the model's generic message would not.
        return None


def form_text(value) -> str:
    """A stored value as the text its form widget shows."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class CustomValuesForm(PatronForm):
    """One form field per active definition; values are checked by `parse_value`."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, definitions, customer, **kwargs):
        values = customer.custom_fields or {}
        self.definitions = [d for d in definitions if not d.archived]
        initial = {"version": customer.version}
        for definition in self.definitions:
            initial[definition.key] = form_text(values.get(definition.key))
        super().__init__(*args, initial=initial, **kwargs)
        for definition in self.definitions:
            field = self.build_field(definition)
            widget = field.widget
            widget.attrs.setdefault(
                "class", "form-select" if isinstance(widget, forms.Select) else "form-control"
            )
            self.fields[definition.key] = field

    @staticmethod
    def build_field(definition: CustomField) -> forms.Field:
        kind = CustomField.FieldType
        common = {
            "label": definition.label,
            "help_text": definition.help_text,
            "required": definition.required,
            "error_messages": {"required": f"{definition.label} is required."},
        }
        if definition.field_type == kind.BOOLEAN:
            widget = forms.Select(choices=[("", "—"), ("true", "Yes"), ("false", "No")])
        elif definition.field_type == kind.CHOICE:
            widget = forms.Select(choices=[("", "—"), *[(c, c) for c in definition.choices]])
        elif definition.field_type == kind.DATE:
            widget = forms.DateInput(attrs={"type": "date"})
        elif definition.field_type == kind.NUMBER:
            widget = forms.TextInput(attrs={"inputmode": "decimal"})
        else:
            return forms.CharField(max_length=TEXT_MAX_LENGTH, **common)
        return forms.CharField(widget=widget, **common)

    def clean(self):
        cleaned = super().clean()
        for definition in self.definitions:
            if definition.key not in cleaned:
                continue
            try:
                parse_value(definition, cleaned[definition.key])
            except ValidationError as exc:
                self.add_error(definition.key, exc.messages)
        return cleaned

    @property
    def values(self) -> dict:
        """What the service receives: every active field, empty ones as None."""
        return {d.key: (self.cleaned_data.get(d.key) or None) for d in self.definitions}
