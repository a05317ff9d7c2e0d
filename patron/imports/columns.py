"""The columns of a customer file: one definition for import, export and the docs."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    description: str
    example: str = ""
    required: bool = False


# Lists of names inside one cell (tags, groups) are separated by this character,
# so the comma stays free as the CSV separator.
LIST_SEPARATOR = ";"

CUSTOMER_COLUMNS = [
    ColumnSpec(
        "account_number",
        "Unique account number. Leave empty to number the account automatically.",
        "C000123",
    ),
    ColumnSpec("name", "Name of the person or company.", "Ada Lovelace", required=True),
    ColumnSpec("kind", "person or company (empty: person).", "person"),
    ColumnSpec(
        "status", "Name of an assignable status (empty: the first headline status).", "Active"
    ),
    ColumnSpec("class", "Name of a customer class.", "Residential"),
    ColumnSpec("department", "Name of the department that looks after the account.", "Sales"),
    ColumnSpec("street", "Service address: street.", "12 Park Row"),
    ColumnSpec("city", "Service address: city.", "Leeds"),
    ColumnSpec("postcode", "Service address: postcode.", "LS1 5HD"),
    ColumnSpec("country", "Service address: two-letter country code (empty: GB).", "GB"),
    ColumnSpec("notes", "Free text shown on the overview.", ""),
    ColumnSpec("tags", f"Existing tag names, separated by “{LIST_SEPARATOR}”.", "VIP; Fibre"),
    ColumnSpec(
        "groups", f"Existing group names, separated by “{LIST_SEPARATOR}”.", "Leeds; Resellers"
    ),
]
CONTACT_FIELDS = [
    ("name", "Contact's name (needed when any other contact column is filled).", "Ada Lovelace"),
    ("title", "Job title or role.", "Director"),
    ("email", "Email address.", "ada@example.com"),
    ("phone", "Phone number, with country code or in national form.", "+44 113 496 0000"),
    ("mobile", "Mobile number, with country code or in national form.", "+44 7700 900123"),
]
# The first contact is the primary one; a second contact is optional.
CONTACT_PREFIXES = ["contact", "contact2"]
CONTACT_COLUMNS = [
    ColumnSpec(f"{prefix}_{field}", description, example if prefix == "contact" else "")
    for prefix in CONTACT_PREFIXES
    for field, description, example in CONTACT_FIELDS
]
COLUMNS = CUSTOMER_COLUMNS + CONTACT_COLUMNS
COLUMN_NAMES = [c.name for c in COLUMNS]
REQUIRED = [c.name for c in COLUMNS if c.required]

# Columns an export adds that an import reads past, so an exported file can be
# imported again as it is: the creation date and the custom fields.
EXPORT_ONLY = ["created"]
CUSTOM_FIELD_PREFIX = "custom:"


def normalise_header(text) -> str:
    """ "Contact Email" and "contact-email" both name `contact_email`."""
    text = str(text if text is not None else "").strip().lower()
    if text.startswith(CUSTOM_FIELD_PREFIX):
        return text
    return "_".join(text.replace("-", " ").replace("_", " ").split())
