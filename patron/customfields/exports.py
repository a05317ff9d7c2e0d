"""Custom fields as export columns (CSV and spreadsheet exports of customers)."""

from patron.customfields.models import CustomField
from patron.customfields.values import display_value


def custom_field_columns() -> list[tuple[str, str]]:
    """(key, label) of every active custom field, in display order.

    An export adds one column per pair; the cell value comes from
    `custom_field_export_value(customer, key)`.
    """
    return list(CustomField.objects.filter(archived=False).values_list("key", "label"))


def custom_field_export_value(customer, key: str):
    """The raw stored value, as JSON-native data: numbers stay numbers in spreadsheets."""
    value = (customer.custom_fields or {}).get(key)
    if isinstance(value, bool):
        return display_value(None, value)
    return value
