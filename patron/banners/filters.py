"""The one FilterSet for banner rules, used by the list page and the API."""

import django_filters
from django import forms

from patron.banners.models import BannerRule


class BannerRuleFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label="Search")
    severity = django_filters.ChoiceFilter(
        choices=BannerRule.Severity.choices, empty_label="Any severity"
    )
    active = django_filters.BooleanFilter(
        label="Active", widget=forms.Select(choices=[("", "Any"), ("true", "Yes"), ("false", "No")])
    )

    class Meta:
        model = BannerRule
        fields = ["q", "severity", "active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.form.fields.items():
            field.widget.attrs.setdefault("class", "form-control" if name == "q" else "form-select")
