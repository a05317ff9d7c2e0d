"""Writes for custom fields: the definitions (admins) and the values (on customers)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify

from patron.core import audit
from patron.core.actor import Actor
from patron.core.errors import PermissionDenied, ValidationError
from patron.core.services import lock, object_create, object_delete, object_update, require_perm
from patron.customers.models import Customer
from patron.customfields.models import CustomField
from patron.customfields.values import display_value, parse_value

DEFINITION_FIELDS = {
    "key",
    "label",
    "help_text",
    "field_type",
    "choices",
    "required",
    "show_on_overview",
    "position",
    "archived",
}

# Names the Custom tab form uses for itself.
RESERVED_KEYS = {"version", "csrfmiddlewaretoken"}


def customers_with_value(key: str):
    """Customers that hold a value for `key` (works on SQLite and PostgreSQL)."""
    return Customer.objects.filter(custom_fields__has_key=key)


def _key_from_label(label: str) -> str:
    key = slugify(label or "").replace("-", "_")
    if key and not key[0].isalpha():
        key = f"f_{key}"
    return key[:50]


def _clean_definition(field: CustomField, data: dict) -> dict:
    """Normalise the choices and the key, and check the rules that span fields."""
    data = dict(data)
    unknown = set(data) - DEFINITION_FIELDS
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, "This is not a custom field setting."))
    field_type = data.get("field_type", field.field_type)
    if "choices" in data or "field_type" in data:
        raw = data.get("choices", field.choices) or []
        if isinstance(raw, str):
            raw = raw.splitlines()
        if not isinstance(raw, list | tuple) or not all(isinstance(c, str) for c in raw):
            raise ValidationError({"choices": "Give the choices as a list of text values."})
        choices = []
        for choice in (c.strip() for c in raw):
            if choice and choice not in choices:
                choices.append(choice)
        if field_type == CustomField.FieldType.CHOICE:
            if not choices:
                raise ValidationError(
                    {"choices": "A single-choice field needs at least one choice."}
                )
        else:
            choices = []
        data["choices"] = choices
    if field.pk is None and not data.get("key"):
        data["key"] = _key_from_label(data.get("label", ""))
    if "key" in data:
        data["key"] = (data["key"] or "").strip()
        if data["key"] in RESERVED_KEYS:
            raise ValidationError({"key": f"“{data['key']}” is reserved; choose another key."})
        clash = CustomField.objects.filter(key=data["key"]).exclude(pk=field.pk).first()
        if data["key"] and clash is not None:
            raise ValidationError(
                {"key": f"The key “{data['key']}” is already used by the field “{clash}”."}
            )
    return data


def custom_field_create(*, actor: Actor, data: dict) -> CustomField:
    require_perm(actor, CustomField, "add")
    field = CustomField()
    data = _clean_definition(field, data)
    with transaction.atomic():
        for name, value in data.items():
            setattr(field, name, value)
        return object_create(actor=actor, instance=field)


def custom_field_update(
    *, actor: Actor, field: CustomField, data: dict, expected_version: int | None = None
) -> CustomField:
    """Change a definition. Key and type are fixed once a customer has a value;
    a choice still held by customers cannot be removed."""
    require_perm(actor, CustomField, "change")
    data = _clean_definition(field, data)
    with transaction.atomic():
        current = lock(field, expected_version)
        in_use = customers_with_value(current.key)
        errors = {}
        if data.get("key", current.key) != current.key and in_use.exists():
            errors["key"] = (
                f"The key “{current.key}” cannot change: customers already have values for it."
            )
        if data.get("field_type", current.field_type) != current.field_type and in_use.exists():
            errors["field_type"] = (
                "The type cannot change: customers already have values for this field."
            )
        if current.is_choice and "choices" in data and "field_type" not in errors:
            for removed in set(current.choices) - set(data["choices"]):
                count = in_use.filter(**{f"custom_fields__{current.key}": removed}).count()
                if count:
                    errors["choices"] = (
                        f"“{removed}” is chosen on {count} customer{'s' if count != 1 else ''}; "
                        "change them first or archive the field."
                    )
                    break
        if errors:
            raise ValidationError(errors)
        return object_update(actor=actor, instance=current, data=data)


def custom_field_delete(*, actor: Actor, field: CustomField) -> None:
    """Delete a definition nobody uses; a used field is archived instead."""
    from patron.banners.models import BannerRule

    require_perm(actor, CustomField, "delete")
    with transaction.atomic():
        count = customers_with_value(field.key).count()
        if count:
            raise ValidationError(
                f"“{field}” has values on {count} customer{'s' if count != 1 else ''}; "
                "archive it instead, so their values are kept."
            )
        rules = list(BannerRule.objects.filter(custom_field=field).values_list("name", flat=True))
        if rules:
            raise ValidationError(
                f"“{field}” is used by the alert banner rule “{rules[0]}”; change that rule first."
            )
        object_delete(actor=actor, instance=field)


def _check_customer_access(actor: Actor, customer: Customer) -> None:
    require_perm(actor, Customer, "change")
    if not Customer.objects.restrict(actor, "change").filter(pk=customer.pk).exists():
        raise PermissionDenied("You may not change this customer.")


def customer_custom_fields_set(
    *, actor: Actor, customer: Customer, values: dict, expected_version: int | None = None
) -> Customer:
    """Set some custom values of one customer; keys not given keep their value.

    Each value is checked against its field's type; an empty value clears the
    field (refused for a required field). Errors are keyed by the field key and
    nothing is written unless every value is valid. The event lists each
    changed field by its label with [before, after].
    """
    _check_customer_access(actor, customer)
    if not isinstance(values, dict):
        raise ValidationError("Send the custom values as an object of key: value pairs.")
    fields = {f.key: f for f in CustomField.objects.all()}
    parsed, errors = {}, {}
    for key, raw in values.items():
        field = fields.get(key)
        if field is None:
            errors[key] = ["There is no custom field with this key."]
            continue
        if field.archived:
            errors[key] = [f"{field.label} is archived and cannot be changed."]
            continue
        try:
            parsed[key] = parse_value(field, raw)
        except ValidationError as exc:
            errors[key] = exc.messages
            continue
        if parsed[key] is None and field.required:
            errors[key] = [f"{field.label} is required."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = lock(customer, expected_version)
        before = dict(locked.custom_fields or {})
        after = dict(before)
        for key, value in parsed.items():
            if value is None:
                after.pop(key, None)
            else:
                after[key] = value
        changed = [k for k in parsed if before.get(k) != after.get(k)]
        if not changed:
            return locked
        changes = {
            fields[k].label: [display_value(None, before.get(k)), display_value(None, after.get(k))]
            for k in changed
        }
        Customer.objects.filter(pk=locked.pk).update(
            custom_fields=after, version=F("version") + 1, modified=timezone.now()
        )
        locked.refresh_from_db(fields=["custom_fields", "version", "modified"])
        audit.record(
            actor=actor,
            action="custom_fields_changed",
            obj=locked,
            customer=locked,
            changes=changes,
            message="Changed custom fields: " + ", ".join(fields[k].label for k in changed),
        )
    return locked
