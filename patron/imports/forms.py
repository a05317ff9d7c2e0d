"""Forms of the import, export and phone-list pages: they only validate input."""

from django import forms

from patron.core.forms import PatronForm
from patron.groups.models import Group
from patron.imports.exporting import FORMATS
from patron.imports.models import CustomerImport


class ImportOptionsForm(PatronForm):
    """How a file is applied; chosen at upload and changeable after the dry run."""

    mode = forms.ChoiceField(
        choices=CustomerImport.Mode.choices,
        initial=CustomerImport.Mode.CREATE,
        required=False,
        widget=forms.RadioSelect,
        label="What the import does",
    )
    match_on = forms.ChoiceField(
        choices=CustomerImport.MatchOn.choices,
        initial=CustomerImport.MatchOn.ACCOUNT_NUMBER,
        required=False,
        label="Find existing customers by",
        help_text="For an update: the column that names the customer.",
    )
    on_error = forms.ChoiceField(
        choices=CustomerImport.OnError.choices,
        initial=CustomerImport.OnError.ALL_OR_NOTHING,
        required=False,
        widget=forms.RadioSelect,
        label="Rows with errors",
        help_text="All or nothing imports no row while any row has an error; otherwise the "
        "valid rows are imported and the rejected ones can be downloaded to correct.",
    )
    create_missing = forms.BooleanField(
        required=False,
        label="Create the tags, groups, classes, departments and custom fields the file names "
        "that do not exist yet",
        help_text="Owners and Administrators only.",
    )
    keep_invalid_phones = forms.BooleanField(
        required=False,
        label="Keep phone numbers that are not valid as written, marked unverified",
    )


class ImportUploadForm(ImportOptionsForm):
    file = forms.FileField(
        label="Customer file",
        help_text="CSV (UTF-8) or Excel .xlsx, with a header row. See the column list below.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv"}),
    )
    field_order = ["file", "mode", "match_on", "on_error", "create_missing", "keep_invalid_phones"]

    def options(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in OPTION_NAMES}


OPTION_NAMES = ["mode", "match_on", "on_error", "create_missing", "keep_invalid_phones"]


class ColumnMappingForm(PatronForm):
    """One choice per header of the file: a column of Patron, or ignore."""

    def __init__(self, *args, headers=(), initial_mapping=None, choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.headers = list(headers)
        initial_mapping = initial_mapping or {}
        for position, header in enumerate(self.headers):
            current = initial_mapping.get(header)
            self.fields[f"column_{position}"] = forms.ChoiceField(
                label=header,
                choices=[("?", "— choose a column or ignore —"), *choices],
                initial="?" if current is None else current,
                required=True,
            )

    def clean(self):
        data = super().clean()
        for position, header in enumerate(self.headers):
            if data.get(f"column_{position}") == "?":
                self.add_error(
                    f"column_{position}", f"Choose a column of Patron for “{header}”, or ignore it."
                )
        return data

    def mapping(self) -> dict:
        return {
            header: self.cleaned_data[f"column_{position}"]
            for position, header in enumerate(self.headers)
        }


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
