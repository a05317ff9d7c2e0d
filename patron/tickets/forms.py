"""Ticket forms; `RoutingFieldsMixin` is shared with the note and task forms."""

from django import forms
from django.contrib.auth import get_user_model

from patron.core.forms import PatronForm, PatronModelForm
from patron.departments.routing import DEPARTMENT_NOT_VISIBLE, visible_departments
from patron.tickets.models import Ticket


def people():
    """People work can be addressed to: everyone who can sign in."""
    return get_user_model().objects.filter(is_active=True).order_by("username")


class RoutingFieldsMixin:
    """Department choices limited to those the user may see; people who can sign in."""

    person_field = "assignee"

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        department = self.fields["department"]
        department.queryset = visible_departments(user)
        department.error_messages["invalid_choice"] = DEPARTMENT_NOT_VISIBLE
        department.empty_label = "Choose a department…"
        person = self.fields[self.person_field]
        person.queryset = people()
        person.empty_label = "Anyone"


class TicketForm(RoutingFieldsMixin, PatronModelForm):
    class Meta:
        model = Ticket
        fields = ["subject", "department", "assignee", "priority", "status", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 5})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].required = True
        if not self.instance.pk:
            # A new ticket is open; closing is an action with its own button.
            self.fields["status"].choices = [
                c for c in Ticket.Status.choices if c[0] != Ticket.Status.CLOSED
            ]


class TicketQuickForm(RoutingFieldsMixin, PatronModelForm):
    """The small form on the customer overview."""

    class Meta:
        model = Ticket
        fields = ["subject", "department", "assignee", "priority", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="ticket", **kwargs)
        self.fields["department"].required = True


class TicketCommentForm(PatronForm):
    body = forms.CharField(label="Comment", widget=forms.Textarea(attrs={"rows": 3}))
