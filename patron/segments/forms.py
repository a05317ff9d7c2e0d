from django import forms

from patron.core.forms import PatronModelForm
from patron.segments.models import Segment


class SegmentForm(PatronModelForm):
    class Meta:
        model = Segment
        fields = ["name", "query", "description", "shared"]
        widgets = {
            "query": forms.Textarea(
                attrs={"rows": 2, "class": "form-control font-monospace", "spellcheck": "false"}
            )
        }
