"""Filtering by custom fields: the definitions list, and customers by value.

`custom_field_filter(queryset, key, value)` is what the customer FilterSet,
the API `filter` parameter and (later) the segment language call to narrow
customers by one custom value. It reads the definition to interpret `value`
by type, then uses a JSON key lookup (`custom_fields__<key>`), which Django
translates for SQLite and PostgreSQL alike:

    custom_field_filter(Customer.objects.all(), "contract_end", "2026-03-31")
    custom_field_filter(qs, "vip", "yes")          # booleans: yes/no/true/false
    custom_field_filter(qs, "credit_limit", "12.5") # numbers compare as numbers
    custom_field_filter(qs, "plan", "")            # customers with no value set

Text fields match case-insensitively; a value the field would refuse (a
word for a number field) raises ValidationError keyed by the field key.
"""

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q

from patron.customfields.models import CustomField
from patron.customfields.values import is_empty, parse_value


def custom_field_filter(queryset, key: str, value):
    """Customers in `queryset` whose custom field `key` equals `value` (empty: not set)."""
    field = CustomField.objects.filter(key=key).first()
    if field is None:
        raise ValidationError({key: "There is no custom field with this key."})
    if is_empty(value):
        return queryset.filter(~Q(custom_fields__has_key=key))
    try:
        parsed = parse_value(field, value)
    except ValidationError as exc:
        raise ValidationError({key: exc.messages}) from None
    if field.field_type == CustomField.FieldType.TEXT:
        return queryset.filter(**{f"custom_fields__{key}__iexact": parsed})
    return queryset.filter(**{f"custom_fields__{key}": parsed})


class CustomFieldFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_search", label="Search")
    field_type = django_filters.ChoiceFilter(choices=CustomField.FieldType.choices, label="Type")
    archived = django_filters.BooleanFilter(
        label="Archived",
        widget=forms.Select(choices=[("", "Any"), ("true", "Yes"), ("false", "No")]),
    )

    class Meta:
        model = CustomField
        fields = ["q", "field_type", "archived"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.form.fields.values():
            field.widget.attrs.setdefault(
                "class", "form-control" if field.label == "Search" else "form-select"
            )

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(label__icontains=value) | Q(key__icontains=value))
