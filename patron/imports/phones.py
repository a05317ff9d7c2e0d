"""Phone numbers of an import file, checked fast enough for a million rows.

A number already written in E.164 ("+447700900123") is checked against the
`phonenumbers` metadata patterns directly, which is many times faster than
parsing it; any other spelling, and every number the quick check does not
accept, goes through `patron.customers.phones.normalise_phone`, so the
error messages are always the ones staff see elsewhere.

`reading_without_plus` decides what a bare digit string such as
"380980000000" means (the seed files write numbers so): the international
number "+380980000000" when that is valid and the digits are not also a
different valid number of the default region; both readings are returned
when they are, so the caller can refuse the line and name them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata, geocoder

from patron.customers.phones import normalise_phone

PHONE_LENGTH = 20  # Contact.phone and Contact.mobile
E164 = re.compile(r"\+([1-9]\d{6,14})")
# Fixed line and mobile first: they decide almost every real number quickly.
TYPE_DESCS = (
    "fixed_line",
    "mobile",
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
)


def _desc(desc):
    if desc is None or not desc.national_number_pattern:
        return None
    return frozenset(desc.possible_length or ()), re.compile(desc.national_number_pattern)


def _matches(desc, number: str) -> bool:
    if desc is None:
        return False
    lengths, pattern = desc
    if lengths and len(number) not in lengths:
        return False
    return pattern.fullmatch(number) is not None


class _Region:
    """One region's patterns; all number types of one length joined into a single regex."""

    def __init__(self, metadata):
        self.leading = re.compile(metadata.leading_digits) if metadata.leading_digits else None
        self.general = _desc(metadata.general_desc)
        types = [d for d in (_desc(getattr(metadata, n)) for n in TYPE_DESCS) if d]
        lengths = set(self.general[0]) if self.general else set()
        self.by_length = {}
        for length in lengths:
            patterns = [p.pattern for ls, p in types if not ls or length in ls]
            if patterns:
                self.by_length[length] = re.compile("|".join(f"(?:{p})" for p in patterns))
        self.any_length = [d for d in types if not d[0]] if not lengths else []

    def is_valid(self, number: str) -> bool:
        if not _matches(self.general, number):
            return False
        combined = self.by_length.get(len(number))
        if combined is not None:
            return combined.fullmatch(number) is not None
        return any(_matches(d, number) for d in self.any_length)


@dataclass(frozen=True)
class Reading:
    """One way of reading a number: its E.164 form and how staff see it."""

    number: str
    display: str  # "+380 98 000 0000"
    country: str  # "Ukraine" ("" when the metadata has no name for it)

    def __str__(self) -> str:
        return f"{self.display} ({self.country})" if self.country else self.display


def _reading(number: phonenumbers.PhoneNumber) -> Reading:
    return Reading(
        number=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        display=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL),
        country=geocoder.country_name_for_number(number, "en"),
    )


def _valid(raw: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


class PhoneNormaliser:
    """`normalise(raw, country)` → (E.164 or "", error message or None); remembers what it
    computed. A number without a country code is read in `country` (the contact's or
    customer's), else in the installation's region."""

    def __init__(self, region: str | None = None):
        self.region = region or settings.PATRON_PHONE_REGION
        self._countries: dict[int, list[_Region] | None] = {}

    def normalise(self, raw: str, country: str | None = None) -> tuple[str, str | None]:
        match = E164.fullmatch(raw)
        if match and self.quick_valid(match.group(1)):
            return raw, None
        try:
            return normalise_phone(raw, country or self.region), None
        except ValidationError as exc:
            return "", exc.messages[0]

    @staticmethod
    def can_keep(raw: str) -> bool:
        """Whether a number that is not valid can be stored as written (it must fit)."""
        return len(raw) <= PHONE_LENGTH

    @staticmethod
    def kept(raw: str) -> str:
        return raw

    def reading_without_plus(self, digits: str) -> tuple[Reading | None, Reading | None]:
        """How to read `digits` (no "+"): (international, national) readings.

        (reading, None): valid only as "+<digits>", or both ways as the same
        number (447400613457 in the UK); use it. (international, national):
        two different valid numbers, so the line is ambiguous. (None, None):
        not a valid international number; the caller refuses it as a number
        without a country code.
        """
        if not digits.isdigit() or digits.startswith("0"):
            return None, None
        international = _valid("+" + digits, None)
        if international is None:
            return None, None
        national = _valid(digits, self.region)
        first = _reading(international)
        if national is None:
            return first, None
        second = _reading(national)
        return (first, None) if second.number == first.number else (first, second)

    def quick_valid(self, digits: str) -> bool:
        """True only when the library would accept "+<digits>" as it is written."""
        for length in (1, 2, 3):
            code = int(digits[:length])
            if code in COUNTRY_CODE_TO_REGION_CODE:
                regions = self._regions(code)
                if not regions:
                    return False
                national = digits[length:]
                if len(regions) == 1:
                    return regions[0].is_valid(national)
                # As the library picks the region: leading digits first, else a valid pattern.
                for region in regions:
                    if region.leading is not None:
                        if region.leading.match(national):
                            return region.is_valid(national)
                    elif region.is_valid(national):
                        return True
                return False
        return False

    def _regions(self, code: int) -> list[_Region] | None:
        if code not in self._countries:
            regions = []
            for region_code in COUNTRY_CODE_TO_REGION_CODE[code]:
                metadata = PhoneMetadata.metadata_for_region(region_code.upper(), None)
                if metadata is None:
                    # Non-geographic numbers (+800 …): leave them to the library.
                    regions = None
                    break
                regions.append(_Region(metadata))
            self._countries[code] = regions
        return self._countries[code]
