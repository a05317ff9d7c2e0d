"""Serializer bases: related fields offer only the rows the request's user may see.

Every serializer of the API derives from `PatronModelSerializer` or
`PatronSerializer`. Their related fields are narrowed by
`patron.core.forms.restrict_form_fields` to what the request's user may see
(`restrict_actions` names fields that need another action, e.g.
`{"customer": "change"}`); a serializer with no request in its context offers
no rows at all, so nothing is ever accepted by accident.
"""

from rest_framework import serializers

from patron.core.forms import restrict_form_fields


class PatronSerializerMixin:
    restrict_actions: dict[str, str] = {}

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        restrict_form_fields(fields, getattr(request, "user", None), self.restrict_actions)
        return fields


class PatronModelSerializer(PatronSerializerMixin, serializers.ModelSerializer):
    pass


class PatronSerializer(PatronSerializerMixin, serializers.Serializer):
    pass
