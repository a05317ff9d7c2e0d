"""Countries and regions: ISO 3166-1 and ISO 3166-2 codes, checked with `pycountry`.

`parse_country()` and `parse_region()` are what every path calls (the profile
form, the API, the import check): they take a code or a name and return the
code Patron stores, or raise a `ValidationError` that says what to write
instead ("UK" → "did you mean GB, United Kingdom?").

The installation's home country (`PATRON_DEFAULT_COUNTRY`) is used only where
a value is really missing: an empty country, a phone number written without a
country code. An installation may set it empty, and then an empty country is
an error rather than a guess.
"""

from __future__ import annotations

import difflib
import unicodedata
from functools import lru_cache

import pycountry
from django.conf import settings

from patron.core.errors import ValidationError

# Codes people write that ISO 3166-1 does not use, and the code they mean.
NOT_ISO = {
    "UK": "GB",  # ISO reserves UK; the United Kingdom is GB
    "EL": "GR",  # the EU's code for Greece (VAT numbers)
}

# Names in everyday use that the ISO list spells differently.
ALIASES = {
    "uk": "GB",
    "great britain": "GB",
    "britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "usa": "US",
    "united states of america": "US",
    "america": "US",
    "russia": "RU",
    "south korea": "KR",
    "korea": "KR",
    "north korea": "KP",
    "holland": "NL",
    "the netherlands": "NL",
    "czechia": "CZ",
    "ivory coast": "CI",
    "vatican": "VA",
    "macau": "MO",
    "laos": "LA",
    "syria": "SY",
    "moldova": "MD",
    "tanzania": "TZ",
    "palestine": "PS",
}

_MISSING = object()


def fold(text: str) -> str:
    """Lower case without accents: "Québec" → "quebec"; used to compare names."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().strip()


def home_country() -> str:
    """The installation's home country code ("" when none is set)."""
    return (getattr(settings, "PATRON_DEFAULT_COUNTRY", "") or "").strip().upper()


def country_name(code: str) -> str:
    """The everyday English name of a country code ("GB" → "United Kingdom")."""
    country = pycountry.countries.get(alpha_2=(code or "").upper())
    if country is None:
        return code or ""
    return getattr(country, "common_name", None) or country.name


def country_label(code: str) -> str:
    """The name with the code, as the messages name a country: "Germany (DE)"."""
    return f"{country_name(code)} ({code.upper()})" if code else ""


def country_choices() -> list[tuple[str, str]]:
    """(code, name) of every ISO 3166-1 country, by name, for a select."""
    return _country_choices()


@lru_cache(maxsize=1)
def _country_choices() -> list[tuple[str, str]]:
    return sorted(
        ((c.alpha_2, country_name(c.alpha_2)) for c in pycountry.countries),
        key=lambda choice: fold(choice[1]),
    )


@lru_cache(maxsize=1)
def _names() -> dict[str, str]:
    """Folded name, official name and common name → code."""
    names = {}
    for country in pycountry.countries:
        for attr in ("name", "official_name", "common_name"):
            value = getattr(country, attr, None)
            if value:
                names.setdefault(fold(value), country.alpha_2)
    return names


def parse_country(value, *, default=_MISSING) -> str:
    """The ISO 3166-1 alpha-2 code for `value`: a code (GB, gb, GBR) or a name.

    An empty value becomes `default`, which is the home country unless given;
    an empty value with no default (no home country set) is an error.
    """
    text = str(value or "").strip()
    if not text:
        fallback = home_country() if default is _MISSING else (default or "")
        if not fallback:
            raise ValidationError(
                "Give a country: this installation has no home country to assume "
                "(PATRON_DEFAULT_COUNTRY is empty)."
            )
        return parse_country(fallback, default="")
    return _parse_country(text)


@lru_cache(maxsize=1024)
def _parse_country(text: str) -> str:
    upper = text.upper()
    if len(upper) == 2 and upper.isalpha():
        if pycountry.countries.get(alpha_2=upper) is not None:
            return upper
        if upper in NOT_ISO:
            meant = NOT_ISO[upper]
            raise ValidationError(
                f"“{text}” is not an ISO country code: did you mean {meant}, {country_name(meant)}?"
            )
        raise ValidationError(
            f"“{text}” is not a country code. Use the two-letter ISO 3166-1 code, "
            "e.g. GB for the United Kingdom or DE for Germany."
        )
    if len(upper) == 3 and upper.isalpha():
        country = pycountry.countries.get(alpha_3=upper)
        if country is not None:
            return country.alpha_2
    folded = fold(text)
    code = ALIASES.get(folded) or _names().get(folded)
    if code and pycountry.countries.get(alpha_2=code) is not None:
        return code
    close = difflib.get_close_matches(folded, list(_names()), n=1, cutoff=0.8)
    if close:
        meant = _names()[close[0]]
        raise ValidationError(
            f"“{text}” is not a country Patron knows: did you mean {meant}, {country_name(meant)}?"
        )
    raise ValidationError(
        f"“{text}” is not a country Patron knows. Use the two-letter ISO 3166-1 code "
        "(e.g. GB, DE, US) or the country's English name."
    )


# --- Regions (ISO 3166-2) ----------------------------------------------------------------


@lru_cache(maxsize=300)
def _subdivisions(country: str) -> dict[str, str]:
    """Code → name of the country's ISO 3166-2 subdivisions ({} where none are known)."""
    found = pycountry.subdivisions.get(country_code=country) or []
    return {s.code: s.name for s in found}


@lru_cache(maxsize=300)
def _subdivision_names(country: str) -> dict[str, str]:
    names = {}
    for code, name in _subdivisions(country).items():
        names.setdefault(fold(name), code)
        # "Québec" is also written "Quebec", "Co. Cork" means "Cork", "Wien" is "Vienna"
        # elsewhere; only the plain forms are matched, never a guess.
        names.setdefault(fold(name.split("[")[0].split("(")[0]), code)
    return names


def has_regions(country: str) -> bool:
    """Whether the library knows the country's subdivisions."""
    return bool(country) and bool(_subdivisions(country.upper()))


def region_name(code: str, country: str = "") -> str:
    """The name of a stored region: "US-CA" → "California"; free text as written."""
    if not code:
        return ""
    country = (country or code.split("-")[0]).upper()
    return _subdivisions(country).get(code.upper(), code) if "-" in code else code


_REGION_PREFIXES = ("co. ", "county ", "province of ", "state of ")
# Former codes and names still written for a region the ISO list now names otherwise.
REGION_ALIASES = {
    "MX": {"df": "MX-CMX", "distrito federal": "MX-CMX", "mexico city": "MX-CMX"},
}


def parse_region(value, country: str, *, keep_unknown: bool = False) -> str:
    """The region to store for `value` in `country`.

    Where `pycountry` knows the country's ISO 3166-2 subdivisions, a code
    ("US-CA" or "CA") or a name ("California", "Québec", "quebec") becomes the
    full code and anything else is an error, unless `keep_unknown` (an import
    that keeps legacy data as written). Elsewhere the text is kept as written.
    """
    text = " ".join(str(value or "").split())
    if not text:
        return ""
    country = (country or "").upper()
    known = _subdivisions(country) if country else {}
    if not known:
        return text
    upper = text.upper()
    for code in (upper, f"{country}-{upper}"):
        if code in known:
            return code
    folded = fold(text)
    names = _subdivision_names(country)
    if folded in names:
        return names[folded]
    if folded in REGION_ALIASES.get(country, {}):
        return REGION_ALIASES[country][folded]
    for prefix in _REGION_PREFIXES:
        if folded.startswith(prefix) and folded[len(prefix) :] in names:
            return names[folded[len(prefix) :]]
    if keep_unknown:
        return text
    examples = ", ".join(f"{code} ({name})" for code, name in sorted(known.items())[:2])
    raise ValidationError(
        f"“{text}” is not a region of {country_label(country)}. Use its ISO 3166-2 code "
        f"or name, e.g. {examples}."
    )
