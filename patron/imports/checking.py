"""Checking a customer file row by row: every problem with its row, column and message.

The same checker serves the dry run and the apply job, so what the preview
accepts is exactly what the apply writes. Names (statuses, classes,
departments, tags, groups) are looked up once, within what the uploader may
see; a name that does not exist is an error and nothing is created for it.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email

from patron.classes.models import CustomerClass
from patron.core.actor import Actor
from patron.core.errors import ValidationError
from patron.customers.models import Contact, Customer
from patron.customers.services.groups import check_group_rules
from patron.customfields.models import CustomField
from patron.customfields.values import parse_value
from patron.departments.models import Department
from patron.groups.models import Group
from patron.imports.columns import (
    COLUMN_NAMES,
    CONTACT_FIELDS,
    CONTACT_PREFIXES,
    CUSTOM_FIELD_PREFIX,
    EXPORT_ONLY,
    LIST_SEPARATOR,
    REQUIRED,
    normalise_header,
)
from patron.imports.phones import PhoneNormaliser
from patron.statuses.models import Status
from patron.tags.models import Tag

CHUNK = 2000
# Cells whose whole text often repeats (a status, a list of tags) are checked once per
# distinct text; this many texts per column are remembered.
CELL_CACHE_SIZE = 20_000
KINDS = {"": Customer.Kind.PERSON, "person": Customer.Kind.PERSON, "company": Customer.Kind.COMPANY}
KINDS.update({label.lower(): value for value, label in Customer.Kind.choices})


@dataclass(frozen=True)
class RowError:
    """One problem: the spreadsheet row (the header is row 1), the column and what is wrong."""

    row: int
    column: str
    message: str

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class CheckedRow:
    """One valid row, ready to write."""

    row: int
    account_number: str
    values: dict
    status: Status
    tags: list
    groups: list
    contacts: list[dict]
    # Custom field values by key, in stored form; None when the file has no custom columns.
    custom: dict | None = None


def _suggest(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name.lower(), list(known), n=1, cutoff=0.6)
    return close[0] if close else ""


class _Names:
    """Objects by lower-cased name, for one model, within what the actor may see."""

    def __init__(self, queryset, label: str):
        self.label = label
        self.by_name = {}
        for obj in queryset:
            self.by_name.setdefault(obj.name.lower(), obj)
            short = getattr(obj, "short_name", "")
            if short:
                self.by_name.setdefault(short.lower(), obj)

    def get(self, name: str):
        """(object, None) or (None, message)."""
        obj = self.by_name.get(name.lower())
        if obj is not None:
            return obj, None
        message = f"There is no {self.label} “{name}”."
        suggestion = _suggest(name, self.by_name)
        if suggestion:
            message += f" Did you mean “{self.by_name[suggestion].name}”?"
        else:
            message += f" Create the {self.label} first; the import creates none."
        return None, message


def _max_lengths() -> dict[str, int]:
    customer = {
        "account_number": "account_number",
        "name": "name",
        "street": "service_street",
        "city": "service_city",
        "postcode": "service_postcode",
    }
    lengths = {col: Customer._meta.get_field(f).max_length for col, f in customer.items()}
    for prefix in CONTACT_PREFIXES:
        for name in ("name", "title", "email"):
            lengths[f"{prefix}_{name}"] = Contact._meta.get_field(name).max_length
    return lengths


class CustomerFileChecker:
    """Checks the header, then each row; keeps the account numbers already seen.

    `existing_numbers(numbers)` answers which account numbers the database
    already holds; it is called once per chunk of rows.
    """

    def __init__(self, actor: Actor):
        self.actor = actor
        user = actor.user
        self.restricted_paths = (
            list(user.restricted_paths)
            if user is not None and getattr(user, "has_customer_restriction", False)
            else []
        )
        statuses = Status.objects.restrict(actor)
        self.statuses = _Names(statuses, "status")
        self.default_status = (
            statuses.assignable().order_by("-availability", "position", "name").first()
        )
        headline = statuses.assignable().filter(availability=Status.Availability.HEADLINE)
        self.default_status = headline.order_by("position", "name").first() or self.default_status
        self.classes = _Names(CustomerClass.objects.restrict(actor), "class")
        self.departments = _Names(Department.objects.restrict(actor), "department")
        self.tags = _Names(Tag.objects.restrict(actor), "tag")
        self.groups = _Names(Group.objects.restrict(actor).select_related("group_set"), "group")
        self.phones = PhoneNormaliser()
        self.lengths = _max_lengths()
        self.index: dict[str, int] = {}
        self.seen: dict[str, int] = {}
        self.group_rule_messages: dict[tuple, list[str]] = {}
        self.contact_columns = [
            (prefix, [(f, f"{prefix}_{f}") for f, _, _ in CONTACT_FIELDS])
            for prefix in CONTACT_PREFIXES
        ]
        self.custom_fields = {f.key: f for f in CustomField.objects.all()}
        self.custom_columns: list[tuple[str, CustomField]] = []
        self._blank = dict.fromkeys(COLUMN_NAMES, "")
        self._cells: dict[str, dict[str, tuple]] = defaultdict(dict)
        self._check_class = self._check_named(self.classes, "class")
        self._check_department = self._check_named(self.departments, "department")

    # --- header --------------------------------------------------------------------

    def check_header(self, header: list[str]) -> list[RowError]:
        errors = []
        self.index = {}
        self.custom_columns = []
        for position, raw in enumerate(header):
            name = normalise_header(raw)
            if not name:
                if raw.strip():
                    errors.append(RowError(1, raw, "This column has no usable name."))
                continue
            if name in self.index:
                errors.append(RowError(1, raw, f"The column “{name}” appears twice."))
                continue
            if name in EXPORT_ONLY:
                continue  # a column of an export that an import reads past
            if name.startswith(CUSTOM_FIELD_PREFIX):
                field, message = self._custom_field(name, raw)
                if message:
                    errors.append(RowError(1, raw, message))
                else:
                    self.index[name] = position
                    self.custom_columns.append((name, field))
                continue
            if name not in COLUMN_NAMES:
                suggestion = _suggest(name, COLUMN_NAMES)
                hint = f" Did you mean “{suggestion}”?" if suggestion else ""
                errors.append(
                    RowError(1, raw, f"Unknown column “{raw}”.{hint} See docs/import-export.md.")
                )
                continue
            self.index[name] = position
        for name in REQUIRED:
            if name not in self.index and not any(e.column == name for e in errors):
                errors.append(RowError(1, name, f"The required column “{name}” is missing."))
        return errors

    def _custom_field(self, name: str, raw: str) -> tuple[CustomField | None, str | None]:
        """The custom field a `custom:<key>` column names, or an error message."""
        key = name[len(CUSTOM_FIELD_PREFIX) :].strip()
        field = self.custom_fields.get(key)
        if field is None:
            by_label = {f.label.lower(): k for k, f in self.custom_fields.items()}
            close = _suggest(key, [*self.custom_fields, *by_label])
            suggestion = by_label.get(close, close)
            hint = f" Did you mean “{CUSTOM_FIELD_PREFIX}{suggestion}”?" if suggestion else ""
            return None, (
                f"Unknown column “{raw}”: there is no custom field with the key “{key}”.{hint}"
            )
        if field.archived:
            return None, (
                f"The custom field {field.label} is archived and cannot be imported; "
                "remove the column."
            )
        return field, None

    # --- rows ----------------------------------------------------------------------

    def _cached(self, column: str, text: str, check) -> tuple:
        """`check(text, error)` once per distinct `text` of `column`: (result, errors).

        The errors are (column, message) pairs, replayed for every row with that text.
        """
        cache = self._cells[column]
        hit = cache.get(text)
        if hit is None:
            found: list[tuple[str, str]] = []
            result = check(text, lambda col, message: found.append((col, message)))
            hit = (result, found)
            if len(cache) < CELL_CACHE_SIZE:
                cache[text] = hit
        return hit

    def _check_status(self, text: str, error):
        status = self.default_status
        if text:
            status, message = self.statuses.get(text)
            if message:
                error("status", message)
            elif not status.is_assignable:
                error("status", f"“{status}” is a historical or hidden status; choose another.")
        elif status is None:
            error("status", "Patron has no assignable status; create one first.")
        return status

    def _check_named(self, names: _Names, column: str):
        def check(text: str, error):
            if not text:
                return None
            obj, message = names.get(text)
            if message:
                error(column, message)
            return obj

        return check

    def _check_tags(self, text: str, error) -> list:
        return self._names_list(text, self.tags, "tags", error)

    def _check_group_cell(self, text: str, error) -> list:
        groups = self._names_list(text, self.groups, "groups", error)
        self._check_groups(groups, error)
        return groups

    def _check_custom(self, values: dict, error) -> dict:
        custom = {}
        for column, field in self.custom_columns:
            raw = values[column]
            if not raw:
                continue
            try:
                value = parse_value(field, raw)
            except DjangoValidationError as exc:
                error(column, exc.messages[0])
            else:
                if value is not None:
                    custom[field.key] = value
        return custom

    def _values(self, cells: list[str]) -> dict[str, str]:
        """The row's cells by column name: every column, absent ones and short rows empty."""
        values = self._blank.copy()
        width = len(cells)
        for name, pos in self.index.items():
            values[name] = cells[pos] if pos < width else ""
        return values

    def check_row(self, number: int, cells: list[str]) -> tuple[CheckedRow | None, list[RowError]]:
        errors: list[RowError] = []

        values = self._values(cells)
        cell = values.__getitem__

        def error(column, message):
            errors.append(RowError(number, column, message))

        for column, limit in self.lengths.items():
            value = values.get(column)
            if value and len(value) > limit:
                error(column, f"Use at most {limit} characters (this has {len(value)}).")
        account = cell("account_number")
        name = cell("name")
        if not name:
            error("name", "The name is required.")
        kind = KINDS.get(cell("kind").lower())
        if kind is None:
            error("kind", f"Use “person” or “company”, not “{cell('kind')}”.")
        found = []
        status, messages = self._cached("status", cell("status"), self._check_status)
        found += messages
        customer_class, messages = self._cached("class", cell("class"), self._check_class)
        found += messages
        department, messages = self._cached(
            "department", cell("department"), self._check_department
        )
        found += messages
        for column, message in found:
            error(column, message)
        country = cell("country").upper() or "GB"
        if len(country) != 2 or not country.isalpha():
            error("country", f"Use a two-letter country code such as GB, not “{cell('country')}”.")
        tags, messages = self._cached("tags", cell("tags"), self._check_tags)
        for column, message in messages:
            error(column, message)
        groups, messages = self._cached("groups", cell("groups"), self._check_group_cell)
        for column, message in messages:
            error(column, message)
        contacts = self._contacts(cell, error)
        custom = self._check_custom(values, error) if self.custom_columns else None
        if account:
            earlier = self.seen.get(account)
            if earlier is not None:
                error(
                    "account_number",
                    f"Account number {account} is already used in row {earlier} of this file.",
                )
            else:
                self.seen[account] = number
        if errors:
            return None, errors
        values = {
            "name": name,
            "kind": kind,
            "customer_class_id": customer_class.pk if customer_class else None,
            "department_id": department.pk if department else None,
            "service_street": cell("street"),
            "service_city": cell("city"),
            "service_postcode": cell("postcode"),
            "service_country": country,
            "notes": cell("notes"),
        }
        return CheckedRow(number, account, values, status, tags, groups, contacts, custom), []

    def _names_list(self, text: str, names: _Names, column: str, error) -> list:
        if not text:
            return []
        found = {}
        for part in text.split(LIST_SEPARATOR):
            part = part.strip()
            if not part:
                continue
            obj, message = names.get(part)
            if message:
                error(column, message)
            else:
                found.setdefault(obj.id, obj)
        return list(found.values())

    def _check_groups(self, groups: list, error) -> None:
        archived = [g for g in groups if g.archived]
        for group in archived:
            error("groups", f"“{group}” is archived and cannot be given to customers.")
        # The rules: one group of a single-choice set, and nobody in a dynamic group by hand.
        if len(groups) > 1 or any(g.segment_id is not None for g in groups):
            key = tuple(sorted(g.id for g in groups))
            if key not in self.group_rule_messages:
                try:
                    check_group_rules(groups)
                except ValidationError as exc:
                    self.group_rule_messages[key] = exc.messages
                else:
                    self.group_rule_messages[key] = []
            for message in self.group_rule_messages[key]:
                error("groups", message)
        # A new customer must land in a group the uploader works with, by hand; a
        # dynamic group takes nobody by hand, so it does not count here.
        if self.restricted_paths and not any(
            g.segment_id is None and g.path.startswith(p)
            for g in groups
            for p in self.restricted_paths
        ):
            error(
                "groups",
                "You may add customers only to the groups you work with; name one of them.",
            )

    def _contacts(self, cell, error) -> list[dict]:
        contacts = []
        for prefix, columns in self.contact_columns:
            data = {f: cell(column) for f, column in columns}
            if not any(data.values()):
                continue
            if not data["name"]:
                error(
                    f"{prefix}_name",
                    "Give the contact's name when other contact columns are filled.",
                )
            if data["email"]:
                try:
                    validate_email(data["email"])
                except DjangoValidationError:
                    error(f"{prefix}_email", f"“{data['email']}” is not a valid email address.")
            for kind in ("phone", "mobile"):
                if data[kind]:
                    number, message = self.phones.normalise(data[kind])
                    if message:
                        error(f"{prefix}_{kind}", message)
                    data[kind] = number
            data["is_primary"] = not contacts
            contacts.append(data)
        return contacts

    # --- whole file ----------------------------------------------------------------

    def check_rows(
        self, rows: Iterator[list[str]], existing_numbers
    ) -> Iterator[tuple[list[CheckedRow], list[RowError]]]:
        """Yield (valid rows, errors) a chunk at a time; row numbers start at 2."""
        chunk: list[CheckedRow] = []
        errors: list[RowError] = []
        for number, cells in enumerate(rows, start=2):
            if not any(cells):
                continue
            checked, row_errors = self.check_row(number, cells)
            if checked is not None:
                chunk.append(checked)
            errors.extend(row_errors)
            if len(chunk) >= CHUNK:
                yield self._against_database(chunk, errors, existing_numbers)
                chunk, errors = [], []
        if chunk or errors:
            yield self._against_database(chunk, errors, existing_numbers)

    def _visible_numbers(self, numbers: set[str]) -> set[str]:
        """Which of `numbers` (all taken) belong to customers the uploader can see."""
        visible = Customer.objects.restrict(self.actor)
        if not visible.query.where:
            return numbers  # no condition: the uploader sees every customer
        return set(
            visible.filter(account_number__in=numbers).values_list("account_number", flat=True)
        )

    def _against_database(self, chunk, errors, existing_numbers):
        numbers = [row.account_number for row in chunk if row.account_number]
        taken = set(existing_numbers(numbers)) if numbers else set()
        if taken:
            seen = self._visible_numbers(taken)
            kept = []
            for row in chunk:
                if row.account_number in taken:
                    errors.append(
                        RowError(
                            row.row, "account_number", _taken_message(row.account_number, seen)
                        )
                    )
                else:
                    kept.append(row)
            chunk = kept
        errors.sort(key=lambda e: e.row)
        return chunk, errors


def _taken_message(number: str, visible: set[str]) -> str:
    """Why a row's account number is refused, revealing no customer the uploader cannot see.

    Account numbers are unique across Patron, so a number held by a customer
    outside the uploader's groups is refused too; the message then says only
    that the number cannot be used, not that a customer holds it
    (docs/import-export.md).
    """
    if number in visible:
        return f"Account number {number} already belongs to a customer in Patron."
    return (
        f"Account number {number} cannot be used. Choose another, or leave the cell "
        "empty to number the customer automatically."
    )


def existing_account_numbers(numbers: list[str]) -> list[str]:
    """Which of `numbers` the database already holds (whoever may see them)."""
    return list(
        Customer.objects.filter(account_number__in=numbers).values_list("account_number", flat=True)
    )


def preview_row(row: CheckedRow) -> dict:
    return {
        "row": row.row,
        "account_number": row.account_number,
        "name": row.values["name"],
        "status": row.status.name,
        "tags": [t.name for t in row.tags],
        "groups": [g.name for g in row.groups],
        "contacts": [c["name"] for c in row.contacts],
    }


def group_errors_by_row(errors: list[dict]) -> list[tuple[int, list[dict]]]:
    by_row = defaultdict(list)
    for item in errors:
        by_row[item["row"]].append(item)
    return sorted(by_row.items())
