"""The custom fields card on the customer overview.

    context.update(patron.customfields.overview.overview_context(request, customer))
    {% include "customfields/_customer_card.html" %}

One query (the definitions) whatever the number of fields.
"""

from django.urls import reverse

from patron.customfields.models import CustomField
from patron.customfields.values import display_value


def overview_context(request, customer) -> dict:
    """`custom_field_rows`: (field, text) for each set value marked "show on overview"."""
    values = customer.custom_fields or {}
    rows = [
        (field, display_value(field, values[field.key]))
        for field in CustomField.objects.filter(archived=False, show_on_overview=True)
        if values.get(field.key) is not None
    ]
    can_edit = request.user.has_perm("customers.change_customer")
    return {
        "custom_field_rows": rows,
        "custom_fields_edit_url": (
            reverse("customfields:customer_edit", args=[customer.pk]) if can_edit else ""
        ),
    }
