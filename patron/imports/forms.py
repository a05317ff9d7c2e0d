"""Forms of the import, export and phone-list pages: they only validate input."""

from django import forms

from patron.core.forms import PatronForm
from patron.groups.models import Group
from patron.imports.exporting import FORMATS


class ImportUploadForm(PatronForm):
    file = forms.FileField(
        label="Customer file",
        help_text="CSV (UTF-8) or Excel .xlsx, with a header row. See the column list below.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv"}),
    )


class ExportForm(PatronForm):
    format = forms.ChoiceField(
        choices=list(FORMATS.items()), initial="csv", widget=forms.RadioSelect, label="Format"
    )


class PhoneListForm(PatronForm):
    group = forms.ModelChoiceField(
        queryset=Group.objects.filter(archived=False)
        .select_related("group_set")
        .with_ancestor_names(),
        label="Group",
    )
    numbers = forms.CharField(
        label="Phone numbers",
        widget=forms.Textarea(
            attrs={"rows": 10, "placeholder": "+44 7700 900123\n+353 85 123 4567"}
        ),
        help_text="One number per line, with its country code (+44 …).",
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        self.fields["group"].label_from_instance = lambda g: f"{g.full_name} ({g.group_set})"
