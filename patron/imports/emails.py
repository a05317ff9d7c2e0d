"""Email addresses of an import: international ones accepted, as people write them.

Django's `validate_email` (what the contact form uses) accepts international
domain names but only an ASCII part before the "@"; real customer lists hold
addresses such as "stanisław.wójcik@wp.pl" (SMTPUTF8, RFC 6531), which mail
servers deliver. The import accepts a Unicode part before the "@" made of the
characters an ASCII address may use, plus letters and digits of any script; the
domain is checked by Django after IDNA encoding.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

_ATOM = r"[\w!#$%&'*+/=?^`{|}~-]+"
LOCAL_PART = re.compile(rf"{_ATOM}(?:\.{_ATOM})*")


def check_email(text: str) -> bool:
    """Whether `text` is an email address the import accepts."""
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
