"""Serializer bases: related fields offer only the rows the request's user may see.

Every serializer of the API derives from `PatronModelSerializer` or
`PatronSerializer`. Their related fields are narrowed by
`patron.core.forms.restrict_form_fields` to what the request's user may see
(`restrict_actions` names fields that need another action, e.g.
`{"customer": "change"}`); a serializer with no request in its context offers
no rows at all, so nothing is ever accepted by accident.
"""

from rest_framework import serializers

from patron.core.emails import InternationalEmailField, validate_international_email
from patron.core.forms import restrict_form_fields


class PatronSerializerMixin:
    restrict_actions: dict[str, str] = {}

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        restrict_form_fields(fields, getattr(request, "user", None), self.restrict_actions)
        return fields


class InternationalEmailSerializerField(serializers.CharField):
    """An email address checked by Patron's one check (international addresses accepted),
    not DRF's ASCII-only `EmailValidator`."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if validate_international_email not in self.validators:
            # A field built from the model already has it among the model's validators.
            self.validators.append(validate_international_email)


class PatronModelSerializer(PatronSerializerMixin, serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        InternationalEmailField: InternationalEmailSerializerField,
    }


class PatronSerializer(PatronSerializerMixin, serializers.Serializer):
    pass
