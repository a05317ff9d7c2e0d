"""Forms for group sets and groups. They validate; the services write."""

from collections import defaultdict

from django import forms
from django.forms.models import ModelChoiceIterator

from patron.core.forms import PatronModelForm
from patron.customers.forms import GroupAddForm
from patron.groups.models import Group, GroupSet
from patron.groups.services import new_group_sets


class GroupSetForm(PatronModelForm):
    class Meta:
        model = GroupSet
        fields = ["name", "description", "single_choice", "position"]
        labels = {"single_choice": "Single choice"}
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}


class GroupedTreeChoiceIterator(ModelChoiceIterator):
    """Options grouped under their set's name, in tree order."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        by_set: dict[str, list] = defaultdict(list)
        for group in self.queryset:
            by_set[group.group_set.name].append(self.choice(group))
        yield from by_set.items()


class GroupedTreeChoiceField(forms.ModelChoiceField):
    """Groups listed under their set, indented by depth (Europe, — UK, — — London)."""

    iterator = GroupedTreeChoiceIterator

    def label_from_instance(self, obj):
        return f"{'— ' * obj.depth}{obj.name}"


class GroupForm(PatronModelForm):
    """Set, parent (a group of the same set), name, display and the flags."""

    parent = GroupedTreeChoiceField(
        queryset=Group.objects.all(),
        required=False,
        empty_label="None (top level)",
        help_text="A group of the same set; members of this group count as members of the parent.",
    )

    class Meta:
        model = Group
        fields = [
            "group_set",
            "parent",
            "name",
            "description",
            "colour",
            "display_class",
            "position",
            "personal_customers",
            "reseller",
            "payment_group",
            "apply_member_credits",
            "segment",
        ]
        labels = {
            "segment": "Members from segment",
            "group_set": "Group set",
            "personal_customers": "Personal customers",
            "payment_group": "Payment group",
        }
        widgets = {
            "colour": forms.TextInput(
                attrs={"type": "color", "class": "form-control form-control-color"}
            ),
            "description": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        self.fields["group_set"].empty_label = None
        parents = self.fields["parent"].queryset.select_related("group_set")
        if self.instance.pk:
            # Neither the group itself nor anything below it can be its parent.
            parents = parents.exclude(path__startswith=self.instance.path)
            if self.instance.memberships.exists():
                self.fields[
                    "group_set"
                ].help_text = "This group has members, so it stays in its set."
        self.fields["parent"].queryset = parents
        self.fields["segment"].empty_label = "None: members are added by hand"

    @property
    def sections(self):
        return [
            ("Group", [self[n] for n in ("group_set", "parent", "name", "description")]),
            ("Display", [self[n] for n in ("colour", "display_class", "position")]),
            ("Membership", [self["segment"]]),
            (
                "Flags",
                [
                    self[n]
                    for n in (
                        "personal_customers",
                        "reseller",
                        "payment_group",
                        "apply_member_credits",
                    )
                ],
            ),
        ]


class TypedGroupAddForm(GroupAddForm):
    """The overview's typed-name box: a group name, the set for a new one, and
    `move` to replace the customer's group in a single-choice set."""

    group_set = forms.ModelChoiceField(
        queryset=GroupSet.objects.none(), required=False, label="New group in"
    )
    move = forms.BooleanField(required=False)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group_set"].queryset = new_group_sets(user)
        self.fields["group_set"].error_messages["invalid_choice"] = (
            "That group set no longer exists; reload the page to see the current ones."
        )
