"""What a search matched: the text under a customer's name in the results.

The index (patron/search/sql.py) says *that* a customer matches; this says
*where*, for the customers of one results page: the contact, phone, email,
address or text custom field that holds the searched text, with the matching
part marked. It folds both sides as the index does (`index.fold`), and reads
phones as digits (`index.phone_digits`), so whatever found the customer is
what it shows. Two queries for a page, whatever its size.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.html import format_html

from patron.search.index import fold, phone_digits

# Shown on the row already: a match there needs no line of its own.
SHOWN = ("name", "account_number")
CUSTOMER_FIELDS = (
    ("company_name", "Company"),
    ("external_reference", "External reference"),
    ("service_street", "Service address"),
    ("service_city", "Service address"),
    ("service_postcode", "Service address"),
    ("billing_street", "Billing address"),
    ("billing_city", "Billing address"),
    ("billing_postcode", "Billing address"),
)
CONTACT_PHONES = (("phone", "Phone"), ("mobile", "Mobile"), ("fax", "Fax"))
PER_CUSTOMER = 2


@dataclass(frozen=True)
class Match:
    label: str
    before: str
    marked: str
    after: str

    def html(self):
        return format_html(
            '<span class="patron-match" data-testid="search-match">{}: {}<mark>{}</mark>{}</span>',
            self.label,
            self.before,
            self.marked,
            self.after,
        )


def _folded_with_positions(value: str) -> tuple[str, list[int]]:
    """`fold(value)` and, for each folded character, the index of the original one."""
    folded, positions = [], []
    for index, char in enumerate(value):
        part = fold(char)
        folded.append(part)
        positions.extend([index] * len(part))
    return "".join(folded), positions


def text_match(label: str, value: str, text: str) -> Match | None:
    """The match of `text` in `value` in any case and accents, or None."""
    if not value or not text:
        return None
    folded, positions = _folded_with_positions(value)
    start = folded.find(fold(text))
    if start < 0:
        return None
    end = start + len(fold(text)) - 1
    first, last = positions[start], positions[end] + 1
    return Match(label, value[:first], value[first:last], value[last:])


def phone_match(label: str, value: str, digits: str) -> Match | None:
    """The match of phone `digits` in the number `value`, or None.

    The number is shown as every page shows phones (`display_phone`: national
    format at home, international otherwise); digits that only match the
    stored form (the country code with the start of the number) are marked
    there instead."""
    from patron.customers.phones import display_phone

    if not value or not digits:
        return None
    shown = display_phone(value)
    if shown != value:
        return _digits_match(label, shown, digits) or _digits_match(label, value, digits)
    return _digits_match(label, value, digits)


def _digits_match(label: str, value: str, digits: str) -> Match | None:
    where = [i for i, char in enumerate(value) if char.isdigit()]
    start = "".join(value[i] for i in where).find(digits)
    if start < 0:
        return None
    first, last = where[start], where[start + len(digits) - 1] + 1
    return Match(label, value[:first], value[first:last], value[last:])


def describe(customers, text: str, *, user) -> dict[int, list[Match]]:
    """customer id → what `text` matched, for customers whose name or account
    number (already on the row) does not show it."""
    from patron.customers.models import Contact
    from patron.customfields.models import CustomField

    text = (text or "").strip()
    digits = phone_digits(text)
    wanted = [
        c
        for c in customers
        if not any(text_match("", getattr(c, field) or "", text) for field in SHOWN)
    ]
    if not text or not wanted:
        return {}
    contacts: dict[int, list] = {}
    visible = Contact.objects.restrict(user, "view")
    for contact in visible.filter(customer__in=[c.pk for c in wanted]).order_by(
        "-is_primary", "name", "pk"
    ):
        contacts.setdefault(contact.customer_id, []).append(contact)
    # The definitions only name the values a visible customer holds (as its Custom tab does).
    text_fields = dict(
        CustomField.objects.filter(field_type=CustomField.FieldType.TEXT).values_list(
            "key", "label"
        )
    )
    found = {}
    for customer in wanted:
        matches = []
        for contact in contacts.get(customer.pk, []):
            matches.append(text_match("Contact", contact.name, text))
            matches.append(text_match("Email", contact.email, text))
            for field, label in CONTACT_PHONES:
                value = getattr(contact, field)
                matches.append(phone_match(label, value, digits) or text_match(label, value, text))
        for field, label in CUSTOMER_FIELDS:
            matches.append(text_match(label, getattr(customer, field) or "", text))
        values = customer.custom_fields if isinstance(customer.custom_fields, dict) else {}
        for key, label in text_fields.items():
            if isinstance(values.get(key), str):
                matches.append(text_match(label, values[key], text))
        matches = [m for m in matches if m is not None]
        if matches:
            found[customer.pk] = matches[:PER_CUSTOMER]
    return found
