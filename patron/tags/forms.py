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
            )
        }


class TagMergeForm(PatronForm):
    target = forms.ModelChoiceField(queryset=Tag.objects.none(), label="Merge into")

    def __init__(self, *args, source, queryset, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = queryset.exclude(pk=source.pk)
