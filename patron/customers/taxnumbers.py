"""VAT and tax numbers, checked per country with `python-stdnum` where it knows the format.

`validate_tax_number(value, country)` returns the number to store (compact,
without spaces or dots) or raises a `ValidationError` that names the country
and what is wrong ("the check digit is wrong"). An EU number keeps its
country prefix ("DE136695976"), the form VIES and invoices use; a number of a
country whose format the library does not know is kept as written.
"""

from __future__ import annotations

from functools import lru_cache

from stdnum import exceptions
from stdnum.eu import vat as eu_vat
from stdnum.util import get_cc_module

from patron.core.errors import ValidationError
from patron.customers.countries import country_label

# The EU writes Greece as EL and Northern Ireland's VAT numbers as XI.
EU_PREFIX = {"GR": "EL"}
EU_PREFIXES = {code.upper() for code in eu_vat.MEMBER_STATES} | {"EL"}

REASONS = {
    exceptions.InvalidChecksum: "the check digit is wrong",
    exceptions.InvalidLength: "it has the wrong number of characters",
    exceptions.InvalidFormat: "it is not written in the format used there",
    exceptions.InvalidComponent: "a part of it is not valid (the country, region or date)",
}


def _reason(exc: exceptions.ValidationError) -> str:
    for kind, reason in REASONS.items():
        if isinstance(exc, kind):
            return reason
    return "it is not valid"


@lru_cache(maxsize=300)
def _module(country: str):
    """The stdnum module for a company's VAT or tax number in `country`, or None."""
    for kind in ("vat", "tin"):
        module = get_cc_module(country.lower(), kind)
        if module is not None:
            return module
    return None


def knows_format(country: str) -> bool:
    """Whether tax numbers of `country` are checked (not just kept as written)."""
    country = (country or "").upper()
    if not country:
        return False
    return EU_PREFIX.get(country, country) in EU_PREFIXES or _module(country) is not None


def validate_tax_number(value, country: str) -> str:
    """The tax number to store for a customer in `country` ("" stays "")."""
    raw = " ".join(str(value or "").split())
    if not raw:
        return ""
    country = (country or "").upper()
    compact = "".join(c for c in raw if c.isalnum()).upper()
    prefix = compact[:2]
    eu_prefix = EU_PREFIX.get(country, country)
    # A number with an EU prefix is read as that member state's VAT number (a company
    # may be registered in another state than its address); an EU customer's number
    # written without the prefix gets its country's.
    if prefix in EU_PREFIXES and (prefix == eu_prefix or not compact[2:3].isalpha()):
        return _check(raw, eu_vat, compact, "VAT number", "EL" if prefix == "EL" else prefix)
    if eu_prefix in EU_PREFIXES:
        return _check(raw, eu_vat, eu_prefix + compact, "VAT number", country)
    module = _module(country) if country else None
    if module is None:
        return raw
    checked = _check(raw, module, compact, "VAT or tax number", country)
    if prefix == country and not checked.startswith(country):
        checked = country + checked  # "GB980780684" stays written with its prefix
    return checked


def _check(raw: str, module, number: str, kind: str, country: str) -> str:
    try:
        return module.validate(number)
    except exceptions.ValidationError as exc:
        where = country_label("GR" if country == "EL" else country)
        message = f"“{raw}” is not a valid {kind} for {where}: {_reason(exc)}."
        raise ValidationError(message) from exc
