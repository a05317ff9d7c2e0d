"""Turning what a person or an API client sends into a stored custom value.

`parse_value` is the one place that knows the rules of each field type; the
service, the Custom tab form, the banner rules and the filter helper all use
it, so "12.50", 12.5 and "12.5" mean the same thing everywhere.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError

from patron.customfields.models import CustomField

Type = CustomField.FieldType
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TRUE_WORDS = {"true", "yes", "y", "1", "on"}
FALSE_WORDS = {"false", "no", "n", "0", "off"}
TEXT_MAX_LENGTH = 1000


def is_empty(raw) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def _number(field: CustomField, raw):
    if isinstance(raw, bool):
        raise ValidationError(f"{field.label} must be a number like 12 or 12.50.")
    try:
        number = Decimal(str(raw).strip().replace(",", "")) if not isinstance(raw, Decimal) else raw
    except (InvalidOperation, ValueError):
        raise ValidationError(f"{field.label} must be a number like 12 or 12.50.") from None
    if not number.is_finite():
        raise ValidationError(f"{field.label} must be a number like 12 or 12.50.")
    # Stored as a JSON number so filters compare numerically on every database.
    return int(number) if number == number.to_integral_value() else float(number)


def _date(field: CustomField, raw):
    if isinstance(raw, datetime.datetime):
        raw = raw.date()
    if isinstance(raw, datetime.date):
        return raw.isoformat()
    text = str(raw).strip()
    try:
        if not ISO_DATE.match(text):
            raise ValueError
        return datetime.date.fromisoformat(text).isoformat()
    except ValueError:
        raise ValidationError(f"{field.label} must be a date like 2026-03-31.") from None


def _boolean(field: CustomField, raw):
    if isinstance(raw, bool):
        return raw
    word = str(raw).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValidationError(f"{field.label} must be yes or no.")


def _choice(field: CustomField, raw):
    text = str(raw).strip() if isinstance(raw, str | int | Decimal) else None
    if text is None or text not in field.choices:
        options = ", ".join(field.choices)
        raise ValidationError(
            f"“{raw}” is not a choice for {field.label}; choose one of: {options}."
        )
    return text


def _text(field: CustomField, raw):
    if isinstance(raw, bool) or not isinstance(raw, str | int | float | Decimal):
        raise ValidationError(f"{field.label} must be text.")
    text = str(raw).strip()
    if len(text) > TEXT_MAX_LENGTH:
        raise ValidationError(f"{field.label} can be at most {TEXT_MAX_LENGTH} characters long.")
    return text


PARSERS = {
    Type.TEXT: _text,
    Type.NUMBER: _number,
    Type.DATE: _date,
    Type.BOOLEAN: _boolean,
    Type.CHOICE: _choice,
}


def parse_value(field: CustomField, raw):
    """The stored form of `raw` for `field`, or None when it is empty.

    Raises ValidationError with a message naming the field, e.g.
    "Contract end must be a date like 2026-03-31."
    """
    if is_empty(raw):
        return None
    return PARSERS[field.field_type](field, raw)


def display_value(field: CustomField | None, value) -> str | None:
    """The text a person reads: "Yes", "31 Mar 2026" stays ISO for the log, "12.5"."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if field is not None and field.field_type == Type.DATE:
        try:
            return datetime.date.fromisoformat(value).strftime("%-d %b %Y")
        except (TypeError, ValueError):
            return str(value)
    return str(value)


def comparable_text(value) -> str:
    """A stored value as canonical text, for matching banner rules in SQL."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return format(Decimal(str(value)).normalize(), "f")
    return str(value)
