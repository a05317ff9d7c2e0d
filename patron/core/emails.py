"""Email addresses, international ones accepted, as people write them: the one check.

Django's `validate_email` accepts international domain names but only an ASCII
part before the "@"; real customer lists hold addresses such as
"stanisław.wójcik@wp.pl" (SMTPUTF8, RFC 6531), which mail servers deliver. An
address is accepted when Django accepts it, or when its part before the "@" is
made of the characters an ASCII address may use plus letters and digits of any
script, and its domain passes Django's check after IDNA encoding.

`validate_international_email` is the validator (for a form, serializer or model
field); `check_email` the same answer as a bool (the import's row checks).
"""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models

_ATOM = r"[\w!#$%&'*+/=?^`{|}~-]+"
LOCAL_PART = re.compile(rf"{_ATOM}(?:\.{_ATOM})*")
MESSAGE = "Enter an email address such as name@example.com (letters of any language are fine)."


def check_email(text: str) -> bool:
    """Whether `text` is an email address Patron accepts."""
    try:
        validate_email(text)
        return True
    except ValidationError:
        pass
    local, at, domain = text.rpartition("@")
    if not at or not local or len(local) > 64 or not LOCAL_PART.fullmatch(local):
        return False
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    try:
        validate_email(f"x@{ascii_domain}")
    except ValidationError:
        return False
    return True


def validate_international_email(value: str) -> None:
    """Raise ValidationError (code "invalid") unless `value` is an address Patron accepts."""
    if not check_email(str(value)):
        raise ValidationError(MESSAGE, code="invalid", params={"value": value})


class InternationalEmailFormField(forms.EmailField):
    """A form field for an email address that takes international addresses."""

    default_validators = [validate_international_email]


class InternationalEmailField(models.EmailField):
    """A model `EmailField` that takes international addresses (the one check above).

    Migrations see a plain `EmailField` (validators are not part of the schema);
    its form field uses the same check, so forms, the API and the import agree.
    """

    default_validators = [validate_international_email]

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.EmailField", args, kwargs

    def formfield(self, **options):
        return super().formfield(**{"form_class": InternationalEmailFormField, **options})
