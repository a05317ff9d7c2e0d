from django import forms

from patron.banners.models import CONDITION_FIELDS, BannerRule
from patron.core.forms import PatronModelForm

CONDITION_CHOICES = [
    ("tag", "Has the tag"),
    ("group", "Is in the group (or a group below it)"),
    ("status", "Has the status"),
    ("customer_class", "Is of the class"),
    ("custom_field", "Has the custom field value"),
    ("segment", "Is selected by the saved segment"),
]


class BannerRuleForm(PatronModelForm):
    condition = forms.ChoiceField(choices=CONDITION_CHOICES, label="Show on customers who")

    class Meta:
        model = BannerRule
        fields = [
            "name",
            "message",
            "severity",
            "active",
            "position",
            "tag",
            "group",
            "status",
            "customer_class",
            "custom_field",
            "custom_value",
            "segment",
        ]
        widgets = {"message": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        self.fields["group"].queryset = self.fields["group"].queryset.select_related("group_set")
        self.fields["custom_field"].queryset = self.fields["custom_field"].queryset.filter(
            archived=False
        )
        instance = self.instance
        if instance.pk:
            chosen = next((f for f in CONDITION_FIELDS if getattr(instance, f"{f}_id")), "tag")
            self.initial["condition"] = chosen

    @property
    def sections(self):
        return [
            ("Banner", [self["name"], self["message"], self["severity"], self["position"]]),
            (
                "Condition",
                [
                    self["condition"],
                    self["active"],
                    self["tag"],
                    self["group"],
                    self["status"],
                    self["customer_class"],
                    self["custom_field"],
                    self["custom_value"],
                    self["segment"],
                ],
            ),
        ]

    def clean(self):
        cleaned = super().clean()
        chosen = cleaned.get("condition")
        if not chosen:
            return cleaned
        for name in CONDITION_FIELDS:
            if name != chosen:
                cleaned[name] = None
        if chosen != "custom_field":
            cleaned["custom_value"] = ""
        if cleaned.get(chosen) is None and chosen not in self.errors:
            label = self.fields[chosen].label.lower()
            self.add_error(chosen, f"Choose the {label} this banner is for.")
        return cleaned

    def _post_clean(self):
        # The service validates the model (with the custom value checked by type).
        return None
