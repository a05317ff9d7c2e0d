"""Phone numbers: parsed in a country, stored in E.164, with the `phonenumbers` library.

A number is read in the country it belongs to (the contact's, else the
customer's, else the installation's home country): "030 1234567" is a Berlin
number for a German contact and an error for a British one. It is stored in
E.164 ("+49301234567") and shown in national format when it belongs to the
home country, in international format otherwise.

A legacy number that is not valid anywhere can be kept exactly as written
when the caller asks for it (`keep_invalid=True`, the import's choice); the
contact then marks it unverified (`phone_unverified`, ...), and it is shown
as written.
"""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers

from patron.core.errors import ValidationError
from patron.customers.countries import country_label, home_country

E164 = phonenumbers.PhoneNumberFormat.E164


@dataclass(frozen=True)
class Phone:
    """A parsed number: what to store, and whether it is a valid E.164 number."""

    number: str
    verified: bool = True


def _parse(raw: str, country: str):
    try:
        return phonenumbers.parse(raw, None if raw.startswith("+") else (country or None))
    except phonenumbers.NumberParseException:
        return None


def parse_phone(value, country: str | None = None, *, keep_invalid: bool = False) -> Phone:
    """`value` read in `country` (empty: the home country) as a `Phone`.

    Raises a `ValidationError` naming the country used, unless `keep_invalid`,
    which returns the number exactly as written, unverified.
    """
    raw = str(value or "").strip()
    if not raw:
        return Phone("")
    country = (country or home_country()).upper()
    number = _parse(raw, country)
    if number is not None and phonenumbers.is_valid_number(number):
        return Phone(phonenumbers.format_number(number, E164))
    if keep_invalid:
        return Phone(raw, verified=False)
    raise ValidationError(_invalid_message(raw, country, number))


def normalise_phone(value, country: str | None = None, keep_invalid: bool = False) -> str:
    """E.164 form of `value` read in `country` ("" stays ""); see `parse_phone`."""
    return parse_phone(value, country, keep_invalid=keep_invalid).number


def _invalid_message(raw: str, country: str, number) -> str:
    if raw.startswith(("+", "00")):
        where = "a valid international number"
        if number is not None:
            code_region = phonenumbers.region_code_for_country_code(number.country_code)
            if code_region and code_region != "ZZ":
                where = f"a valid number for {country_label(code_region)}"
        return f"“{raw}” is not {where}."
    if not country:
        return (
            f"“{raw}” has no country code and this installation has no home country: "
            "write it with its country code, e.g. +44 20 7946 0018."
        )
    message = f"“{raw}” is not a valid number for {country_label(country)}."
    home = home_country()
    elsewhere = _parse(raw, home) if home and home != country else None
    if elsewhere is not None and phonenumbers.is_valid_number(elsewhere):
        international = phonenumbers.format_number(
            elsewhere, phonenumbers.PhoneNumberFormat.INTERNATIONAL
        )
        return (
            f"{message} It is a number in {country_label(home)}: if that is meant, "
            f"write it as {international}."
        )
    example = phonenumbers.example_number(country)
    if example is not None:
        return (
            f"{message} Write it as it is dialled there, e.g. "
            f"{phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)}, "
            "or with its country code."
        )
    return f"{message} Write it with its country code."


def display_phone(stored: str) -> str:
    """National format for a number of the home country, international otherwise;
    a number kept as written (not E.164) is shown as written."""
    if not stored or not stored.startswith("+"):
        return stored or ""
    try:
        number = phonenumbers.parse(stored, None)
    except phonenumbers.NumberParseException:
        return stored
    if not phonenumbers.is_valid_number(number):
        return stored
    home = home_country()
    if home and phonenumbers.region_code_for_number(number) == home:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
