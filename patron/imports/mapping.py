"""Mapping a file's own column headers to Patron's columns, remembered per kind of file.

A file from another system names its columns its own way ("CompanyName",
"PostalCode"). The user maps each header to one of Patron's columns or
chooses to ignore it; Patron never guesses a header it does not know. The
mapping is stored under the file's headers (`ColumnMapping.signature`), so
the next file with the same headers, typically next month's export from the
same system, is read the same way without asking again.
"""

from __future__ import annotations

import hashlib

from patron.core.actor import Actor
from patron.core.errors import ValidationError
from patron.imports.columns import (
    CUSTOM_FIELD_PREFIX,
    READ_PAST,
    all_columns,
    normalise_header,
)
from patron.imports.models import ColumnMapping

IGNORE = ""


def header_signature(headers: list[str]) -> str:
    """The same for two files whose headers differ only in case and spacing."""
    names = [normalise_header(h) for h in headers]
    names = [n for n in names if n and n not in READ_PAST]
    return hashlib.sha256("\x1f".join(names).encode()).hexdigest()


def remembered_mapping(headers: list[str]) -> dict | None:
    if not headers:
        return None
    found = ColumnMapping.objects.filter(signature=header_signature(headers)).first()
    if found is None:
        return None
    # Only the headers this file has (a rejected-rows file adds "reason").
    return {h: found.mapping[h] for h in headers if h in found.mapping}


def column_choices() -> list[tuple[str, str]]:
    """What a header may be mapped to: Patron's columns, the custom fields, or ignore."""
    from patron.customfields.models import CustomField

    choices = [(IGNORE, "— ignore this column —")]
    choices += [(c.name, f"{c.name}: {c.description}") for c in all_columns()]
    for key, label in CustomField.objects.filter(archived=False).values_list("key", "label"):
        choices.append((f"{CUSTOM_FIELD_PREFIX}{key}", f"{CUSTOM_FIELD_PREFIX}{key}: {label}"))
    return choices


def initial_mapping(headers: list[str], mapping: dict) -> dict:
    """Each header's current choice: the saved one, else the column of the same name;
    None for a header nobody has mapped yet (the page asks for it)."""
    known = {value for value, _ in column_choices()}
    result = {}
    for header in headers:
        if header in mapping:
            result[header] = mapping[header]
        else:
            name = normalise_header(header)
            result[header] = name if name in known and name else None
    return result


def clean_mapping(headers: list[str], mapping: dict) -> dict:
    """Check a mapping sent by a page or the API: every header mapped once, known columns."""
    if not isinstance(mapping, dict):
        raise ValidationError({"mapping": "Give the mapping as an object: header → column."})
    known = {value for value, _ in column_choices()}
    errors = []
    cleaned = {}
    used: dict[str, str] = {}
    for header, column in mapping.items():
        if header not in headers:
            errors.append(f"The file has no column “{header}”.")
            continue
        column = (column or "").strip()
        if column and column not in known:
            errors.append(f"“{column}” (for “{header}”) is not a column of Patron.")
            continue
        if column and column in used:
            errors.append(
                f"“{header}” and “{used[column]}” are both mapped to {column}; "
                "map each column of Patron once."
            )
            continue
        if column:
            used[column] = header
        cleaned[header] = column
    if errors:
        raise ValidationError({"mapping": errors})
    return cleaned


def mapping_remember(*, actor: Actor, headers: list[str], mapping: dict) -> ColumnMapping:
    """Store the mapping for files with these headers (replacing an earlier one)."""
    user = actor.user if actor.user is not None and actor.user.pk else None
    remembered, _ = ColumnMapping.objects.update_or_create(
        signature=header_signature(headers),
        defaults={
            "headers": list(headers),
            "mapping": dict(mapping),
            "updated_by": user,
            "updated_by_label": actor.label[:200],
        },
    )
    return remembered
