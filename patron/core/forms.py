"""Form helpers: Bootstrap styling and the hidden version field."""

from django import forms


class StyledFormMixin:
    """Give every widget the Bootstrap class it needs."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select | forms.SelectMultiple):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs.setdefault("class", css)
            if isinstance(widget, forms.Textarea):
                widget.attrs.setdefault("rows", 3)


class VersionedFormMixin(StyledFormMixin):
    """Carries the object's version so a stale save is refused, not applied."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        instance = getattr(self, "instance", None)
        self.fields["version"] = forms.IntegerField(
            widget=forms.HiddenInput,
            required=False,
            initial=getattr(instance, "version", None) if instance and instance.pk else None,
        )

    @property
    def model_data(self) -> dict:
        """Cleaned values of the model fields only (what the service receives)."""
        return {k: v for k, v in self.cleaned_data.items() if k in self._meta.fields}


class PatronModelForm(VersionedFormMixin, forms.ModelForm):
    pass


class PatronForm(StyledFormMixin, forms.Form):
    pass
