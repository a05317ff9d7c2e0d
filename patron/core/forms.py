"""Form helpers: Bootstrap styling, the hidden version field, and choices within reach.

`restrict_form_fields(fields, who)` is the one way a form, a FilterSet or a
serializer offers related rows: every field whose choices come from a
restricted model offers only the rows `who` may see (`restrict()`), keeping
whatever narrowing the field declares (`Status.objects.filter(...)`). The base
classes call it: `PatronForm` and `PatronModelForm` when given `user=`,
`PatronFilterSet` with its request's user, and `PatronSerializerMixin` with
its request's user, offering no rows when it has no request (fail closed).
"""

from django import forms

from patron.core.models import RestrictedQuerySet

NOT_GIVEN = object()


def restrict_form_fields(fields, who, actions: dict[str, str] | None = None) -> None:
    """Narrow every related field in `fields` to the rows `who` may `view`
    (or the action `actions` names for that field, e.g. `{"customer": "change"}`).

    `fields` is a form's or serializer's fields or a FilterSet's filters; a
    DRF many-related field is narrowed through its child relation.
    """
    actions = actions or {}
    for name, field in fields.items():
        holder = getattr(field, "child_relation", field)
        queryset = getattr(holder, "queryset", None)
        if isinstance(queryset, RestrictedQuerySet):
            holder.queryset = queryset.restrict(who, actions.get(name, "view"))


class StyledFormMixin:
    """Give every widget the Bootstrap class it needs; with `user=`, offer only the
    related rows that user may see (`restrict_form_fields`, `restrict_actions`)."""

    restrict_actions: dict[str, str] = {}

    def __init__(self, *args, user=NOT_GIVEN, **kwargs):
        super().__init__(*args, **kwargs)
        if user is not NOT_GIVEN:
            restrict_form_fields(self.fields, user, self.restrict_actions)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput | forms.RadioSelect):
                # Radio buttons and checkbox lists (a RadioSelect) too: with
                # form-control they were drawn as empty text boxes.
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
