from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q

from patron.core.forms import PatronModelForm
from patron.departments.models import Department


def member_choices(user, department=None):
    """Active users the acting user may see, plus anyone already in the department
    (so saving the form never drops a deactivated member by accident)."""
    keep = Q(is_active=True)
    if department is not None and department.pk:
        keep |= Q(departments=department)
    return (
        get_user_model()
        .objects.restrict(user, "view")
        .filter(keep)
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


class DepartmentForm(PatronModelForm):
    members = forms.ModelMultipleChoiceField(
        queryset=get_user_model().objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text="Notes, tickets and tasks routed to the department reach these people. "
        "Hold Ctrl (⌘ on a Mac) to choose several.",
    )

    class Meta:
        model = Department
        fields = ["name", "email", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["members"].queryset = member_choices(user, self.instance)
        if self.instance.pk:
            self.fields["members"].initial = list(self.instance.members.all())
