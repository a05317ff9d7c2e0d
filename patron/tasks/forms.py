"""Task forms: the quick form on the overview and the full edit form."""

from django import forms

from patron.core.forms import PatronModelForm
from patron.tasks.models import Task
from patron.tickets.forms import RoutingFieldsMixin


class TaskForm(RoutingFieldsMixin, PatronModelForm):
    class Meta:
        model = Task
        fields = ["title", "department", "assignee", "due_date", "description", "done"]
        widgets = {
            "due_date": forms.DateInput(attrs={"type": "date"}),
            "description": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].required = True


class TaskQuickForm(TaskForm):
    """The small form on the customer overview."""

    class Meta(TaskForm.Meta):
        fields = ["title", "department", "assignee", "due_date"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="task", **kwargs)
        self.fields["title"].widget.attrs["placeholder"] = "What has to be done?"
