"""Phone numbers: parsed and stored in E.164 with the `phonenumbers` library."""

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError


def normalise_phone(raw: str, region: str | None = None) -> str:
    """E.164 form of `raw` ("" stays ""); a clear error for an invalid number."""
    raw = (raw or "").strip()
    if not raw:
        return ""
    region = region or settings.PATRON_PHONE_REGION
    try:
        number = phonenumbers.parse(raw, None if raw.startswith("+") else region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(f"“{raw}” is not a phone number.") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(
            f"“{raw}” is not a valid phone number. Include the country code, e.g. +44 20 7946 0018."
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display_phone(e164: str) -> str:
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
