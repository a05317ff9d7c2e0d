"""The columns of a customer file: one definition for import, export, mapping and the docs.

Every column an export writes is a column an import accepts, so a file
exported from Patron imports again as it is (the round trip test in
tests/test_import_round_trip.py holds the two to that). Columns for fields
that the customer model does not have (yet) are left out, so the list
follows the model.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    description: str
    example: str = ""
    required: bool = False
    # The customer or contact field the column needs; the column exists only when the
    # model has it (fields another part of Patron adds later appear by themselves).
    needs: str = ""


# Lists of names inside one cell (tags, groups) are separated by this character,
# so the comma stays free as the CSV separator.
LIST_SEPARATOR = ";"
YES = {"yes", "y", "true", "1", "on"}
NO = {"no", "n", "false", "0", "off", ""}

_CUSTOMER_COLUMNS = [
    ColumnSpec(
        "account_number",
        "Unique account number. Leave empty to number a new account automatically; "
        "an update finds the customer by it.",
        "C000123",
    ),
    ColumnSpec(
        "external_reference",
        "The customer's number in another system; an update can find the customer by it.",
        "NW-ALFKI",
        needs="external_reference",
    ),
    ColumnSpec("name", "Name of the person or company.", "Ada Lovelace", required=True),
    ColumnSpec("first_name", "A person's first name.", "Ada", needs="first_name"),
    ColumnSpec("last_name", "A person's last name.", "Lovelace", needs="last_name"),
    ColumnSpec("company", "Company name.", "Analytical Engines Ltd", needs="company_name"),
    ColumnSpec("kind", "person or company (empty: person).", "person"),
    ColumnSpec(
        "status",
        "Name of a status shown in the back office (empty: the first headline status).",
        "Active",
    ),
    ColumnSpec("status_since", "The date the status took effect (empty: today).", "2024-05-01"),
    ColumnSpec("class", "Name of a customer class.", "Residential"),
    ColumnSpec("department", "Name of the department that looks after the account.", "Sales"),
    ColumnSpec("street", "Service address: street.", "12 Park Row"),
    ColumnSpec("city", "Service address: city.", "Leeds"),
    ColumnSpec(
        "region",
        "Service address: region or state (ISO 3166-2 code or name where known).",
        "",
        needs="service_region",
    ),
    ColumnSpec("postcode", "Service address: postcode.", "LS1 5HD"),
    ColumnSpec(
        "country",
        "Service address: ISO country code or English name (empty: the home country).",
        "GB",
    ),
    ColumnSpec("latitude", "Latitude of the service address, -90 to 90.", "53.800755"),
    ColumnSpec("longitude", "Longitude of the service address, -180 to 180.", "-1.549077"),
    ColumnSpec(
        "billing_street",
        "Billing address: street. Leave every billing column empty to bill the service address.",
        "",
    ),
    ColumnSpec("billing_city", "Billing address: city.", ""),
    ColumnSpec("billing_region", "Billing address: region or state.", "", needs="billing_region"),
    ColumnSpec("billing_postcode", "Billing address: postcode.", ""),
    ColumnSpec("billing_country", "Billing address: ISO country code or name.", ""),
    ColumnSpec(
        "tax_number",
        "VAT or tax number, checked for the billing (else service) country where its format "
        "is known.",
        "",
        needs="tax_number",
    ),
    ColumnSpec("notes", "Free text shown on the overview.", ""),
    ColumnSpec(
        "referred_by",
        "Account number of the customer who referred this one: in Patron already or on an "
        "earlier row of the file.",
        "",
    ),
    ColumnSpec("archived", "yes for an archived account (empty: no).", "no"),
    ColumnSpec("tags", f"Tag names, separated by “{LIST_SEPARATOR}”.", "VIP; Fibre"),
    ColumnSpec("groups", f"Group names, separated by “{LIST_SEPARATOR}”.", "Leeds; Resellers"),
]
_CONTACT_FIELDS = [
    ("name", "Contact's name (needed when any other contact column is filled).", "Ada Lovelace"),
    ("first_name", "Contact's first name.", "", "first_name"),
    ("last_name", "Contact's last name.", "", "last_name"),
    ("title", "Job title or role.", "Director"),
    ("email", "Email address.", "ada@example.com"),
    (
        "phone",
        "Phone number, with country code or in the national form of the customer's country.",
        "+44 113 496 0000",
    ),
    ("mobile", "Mobile number, with country code or in national form.", "+44 7700 900123"),
    ("fax", "Fax number, with country code or in national form.", "", "fax"),
    (
        "country",
        "Country of the contact's numbers when not the customer's.",
        "",
        "country",
    ),
    ("email_opt_out", "yes when the contact wants no marketing email.", "no"),
    ("sms_opt_out", "yes when the contact wants no marketing SMS.", "no"),
]
# The first contact is the primary one; a second contact is optional.
CONTACT_PREFIXES = ["contact", "contact2"]
# Columns an export writes after the contacts: the date the customer joined.
_TRAILING_COLUMNS = [
    ColumnSpec("created", "The date the customer joined (empty: today).", "2021-03-14"),
]
CUSTOM_FIELD_PREFIX = "custom:"
# Columns a file may carry that the import reads past: the reason column of a file of
# rejected rows, so that it imports again once corrected.
READ_PAST = ["reason"]


def _model_has(model_name: str, field: str) -> bool:
    from django.core.exceptions import FieldDoesNotExist

    from patron.customers.models import Contact, Customer

    model = Customer if model_name == "customer" else Contact
    try:
        model._meta.get_field(field)
    except FieldDoesNotExist:
        return False
    return True


def customer_columns() -> list[ColumnSpec]:
    return [c for c in _CUSTOMER_COLUMNS if not c.needs or _model_has("customer", c.needs)]


def contact_fields() -> list[tuple[str, str, str]]:
    """(field, description, example) of each contact column the model supports."""
    fields = []
    for item in _CONTACT_FIELDS:
        field, description, example = item[:3]
        needs = item[3] if len(item) > 3 else ""
        if not needs or _model_has("contact", needs):
            fields.append((field, description, example))
    return fields


def contact_columns() -> list[ColumnSpec]:
    return [
        ColumnSpec(f"{prefix}_{field}", description, example if prefix == "contact" else "")
        for prefix in CONTACT_PREFIXES
        for field, description, example in contact_fields()
    ]


def all_columns() -> list[ColumnSpec]:
    """Every column, in the order an export writes them (custom fields come last)."""
    return customer_columns() + contact_columns() + _TRAILING_COLUMNS


def column_names() -> list[str]:
    return [c.name for c in all_columns()]


REQUIRED = ["name"]


def normalise_header(text) -> str:
    """ "Contact Email" and "contact-email" both name `contact_email`."""
    text = str(text if text is not None else "").strip().lower()
    if text.startswith(CUSTOM_FIELD_PREFIX):
        return text
    return "_".join(text.replace("-", " ").replace("_", " ").split())


def parse_yes_no(text: str) -> bool | None:
    """True, False, or None when the text is neither."""
    text = text.strip().lower()
    if text in YES:
        return True
    if text in NO:
        return False
    return None


def __getattr__(name):
    # The column lists depend on the customer model, so they are built on first use
    # (after the app registry is ready), not when this module is imported.
    if name == "COLUMNS":
        return all_columns()
    if name == "COLUMN_NAMES":
        return column_names()
    if name == "CONTACT_FIELDS":
        return contact_fields()
    raise AttributeError(name)
