"""Note forms: the quick form on the overview and the full edit form."""

from django import forms

from patron.core.forms import PatronModelForm
from patron.notes.models import Note
from patron.tickets.forms import RoutingFieldsMixin


class NoteForm(RoutingFieldsMixin, PatronModelForm):
    person_field = "addressed_to"

    class Meta:
        model = Note
        fields = ["body", "department", "addressed_to", "private_to_department", "pinned"]
        widgets = {"body": forms.Textarea(attrs={"rows": 5})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].empty_label = "No department"
        self.fields["addressed_to"].empty_label = "Nobody in particular"


class NoteQuickForm(NoteForm):
    """The small form on the customer overview."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="note", **kwargs)
        self.fields["body"].widget.attrs["rows"] = 3
        self.fields["body"].widget.attrs["placeholder"] = "Write a note…"
