from django import forms

from patron.core.forms import PatronForm, PatronModelForm
from patron.tags.models import Tag


class TagForm(PatronModelForm):
    class Meta:
        model = Tag
        fields = ["name", "colour", "description"]
        widgets = {
            "colour": forms.TextInput(
                attrs={"type": "color", "class": "form-control form-control-color"}
            ),
            "description": forms.Textarea(attrs={"rows": 2}),
        }


class TagMergeForm(PatronForm):
    target = forms.ModelChoiceField(queryset=Tag.objects.none(), label="Merge into")

    def __init__(self, *args, source, queryset, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = queryset.exclude(pk=source.pk)
        self.fields["target"].empty_label = "Choose the tag to keep…"
