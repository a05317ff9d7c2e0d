"""Phone numbers of an import file, checked fast enough for a million rows.

A number already written in E.164 ("+447700900123") is checked against the
`phonenumbers` metadata patterns directly, which is many times faster than
parsing it; any other spelling, and every number the quick check does not
accept, goes through `patron.customers.phones.normalise_phone`, so the
error messages are always the ones staff see elsewhere.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata

from patron.customers.phones import normalise_phone

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


class PhoneNormaliser:
    """`normalise(raw)` → (E.164 or "", error message or None); remembers what it computed."""

    def __init__(self, region: str | None = None):
        self.region = region or settings.PATRON_PHONE_REGION
        self._countries: dict[int, list[_Region] | None] = {}

    def normalise(self, raw: str) -> tuple[str, str | None]:
        match = E164.fullmatch(raw)
        if match and self.quick_valid(match.group(1)):
            return raw, None
        try:
            return normalise_phone(raw, self.region), None
        except ValidationError as exc:
            return "", exc.messages[0]

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
