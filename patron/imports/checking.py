"""Checking a customer file row by row: every problem with its row, column and message.

The same checker serves the dry run and the apply job, so what the preview
accepts is exactly what the apply writes. The header is read through the
column mapping (`patron.imports.mapping`): a header Patron does not know is
an error until the user maps it to a column or chooses to ignore it; it is
never guessed. Names (statuses, classes, departments, tags, groups, custom
fields) are looked up once, within what the uploader may see
(`patron.imports.names`). Each chunk of rows is then checked against the
database (`patron.imports.matching`): taken account numbers, the customers an
update names, referrers.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError

from patron.classes.models import CustomerClass
from patron.core.actor import Actor
from patron.core.errors import ValidationError
from patron.customers.countries import parse_country, parse_region
from patron.customers.models import Contact, Customer
from patron.customers.services.groups import check_group_rules
from patron.customers.taxnumbers import validate_tax_number
from patron.customfields.models import CustomField
from patron.customfields.values import parse_value
from patron.departments.models import Department
from patron.groups.models import Group
from patron.imports.columns import (
    CONTACT_PREFIXES,
    CUSTOM_FIELD_PREFIX,
    LIST_SEPARATOR,
    READ_PAST,
    REQUIRED,
    column_names,
    contact_fields,
    normalise_header,
    parse_yes_no,
)
from patron.imports.emails import check_email
from patron.imports.names import MissingNames, Names, may_create, refusal, suggest
from patron.imports.phones import PhoneNormaliser
from patron.statuses.models import Status
from patron.tags.models import Tag

CHUNK = 2000
# Cells whose whole text often repeats (a status, a list of tags) are checked once per
# distinct text; this many texts per column are remembered.
CELL_CACHE_SIZE = 20_000
KINDS = {"": Customer.Kind.PERSON, "person": Customer.Kind.PERSON, "company": Customer.Kind.COMPANY}
KINDS.update({label.lower(): value for value, label in Customer.Kind.choices})

# Text columns that set one customer field as they are written.
TEXT_FIELDS = {
    "name": "name",
    "external_reference": "external_reference",
    "first_name": "first_name",
    "last_name": "last_name",
    "company": "company_name",
    "street": "service_street",
    "city": "service_city",
    "region": "service_region",
    "postcode": "service_postcode",
    "billing_street": "billing_street",
    "billing_city": "billing_city",
    "billing_region": "billing_region",
    "billing_postcode": "billing_postcode",
    "tax_number": "tax_number",
    "notes": "notes",
}
BILLING_COLUMNS = (
    "billing_street",
    "billing_city",
    "billing_region",
    "billing_postcode",
    "billing_country",
)
CONTACT_TEXT = ("name", "first_name", "last_name", "title", "email")
CONTACT_PHONES = ("phone", "mobile", "fax")
PHONE_FLAGS = {"phone": "phone_unverified", "mobile": "mobile_unverified", "fax": "fax_unverified"}
CONTACT_FLAGS = ("email_opt_out", "sms_opt_out")
# Customer fields an update leaves alone when their cell is empty (an empty cell means
# "not given" for them, not "clear it").
KEEP_WHEN_BLANK = {"kind", "status_since", "created"}


def home_country() -> str:
    return (getattr(settings, "PATRON_DEFAULT_COUNTRY", "") or "").strip().upper()


def _field_names(model) -> set[str]:
    return {f.attname for f in model._meta.concrete_fields}


@dataclass(frozen=True)
class RowError:
    """One problem: the spreadsheet row (the header is row 1), the column and what is wrong."""

    row: int
    column: str
    message: str

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class ImportOptions:
    """What the user chose for one file (see `CustomerImport`)."""

    mode: str = "create"
    match_on: str = "account_number"
    on_error: str = "all_or_nothing"
    create_missing: bool = False
    keep_invalid_phones: bool = False
    mapping: dict = field(default_factory=dict)

    @property
    def creates(self) -> bool:
        return self.mode in ("create", "create_or_update")

    @property
    def updates(self) -> bool:
        return self.mode in ("update", "create_or_update")

    @classmethod
    def of(cls, customer_import) -> ImportOptions:
        return cls(
            mode=customer_import.mode,
            match_on=customer_import.match_on,
            on_error=customer_import.on_error,
            create_missing=customer_import.create_missing,
            keep_invalid_phones=customer_import.keep_invalid_phones,
            mapping=dict(customer_import.mapping or {}),
        )


@dataclass
class CheckedRow:
    """One valid row, ready to write.

    `values` are customer fields in creation form (defaults filled in); `blank`
    names those of `KEEP_WHEN_BLANK` whose cell was empty, which an update
    leaves alone. `tags`/`groups` are None when the file has no such column.
    """

    row: int
    account_number: str
    values: dict
    status: Status | None
    tags: list | None
    groups: list | None
    contacts: list[dict | None]
    # Custom field values by key, in stored form (None: cleared); None when the file
    # has no custom columns.
    custom: dict | None = None
    blank: frozenset = frozenset()
    referrer: str = ""
    match_key: str = ""
    # Set by the database check: the customer an update changes and what changes.
    existing_id: int | None = None
    update: object = None
    notes: tuple = ()


class CustomerFileChecker:
    """Checks the header, then each row; keeps the account numbers already seen."""

    def __init__(self, actor: Actor, options: ImportOptions | None = None):
        self.actor = actor
        self.options = options or ImportOptions()
        user = actor.user
        self.restricted_paths = (
            list(user.restricted_paths)
            if user is not None and getattr(user, "has_customer_restriction", False)
            else []
        )
        self.missing = MissingNames()

        def creating(kind):
            return self.options.create_missing and may_create(actor, kind)

        statuses = Status.objects.restrict(actor)
        self.statuses = Names(statuses, "status")
        self.default_status = (
            statuses.assignable().order_by("-availability", "position", "name").first()
        )
        headline = statuses.assignable().filter(availability=Status.Availability.HEADLINE)
        self.default_status = headline.order_by("position", "name").first() or self.default_status
        self.classes = Names(
            CustomerClass.objects.restrict(actor), "class", creating=creating("class")
        )
        self.departments = Names(
            Department.objects.restrict(actor), "department", creating=creating("department")
        )
        self.tags = Names(Tag.objects.restrict(actor), "tag", creating=creating("tag"))
        self.groups = Names(
            Group.objects.restrict(actor).select_related("group_set"),
            "group",
            creating=creating("group"),
        )
        self.phones = PhoneNormaliser()
        self.home_country = home_country()
        self.lengths: dict[str, int] = {}
        self.index: dict[str, int] = {}
        self.header: list[str] = []
        self.unknown_headers: list[str] = []
        self.seen: dict[str, int] = {}
        self.group_rule_messages: dict[tuple, list[str]] = {}
        self.contact_columns: list[tuple[str, list[tuple[str, str]]]] = []
        self.custom_fields = {f.key: f for f in CustomField.objects.all()}
        self.custom_columns: list[tuple[str, CustomField]] = []
        self.new_custom_columns: list[str] = []
        self._blank: dict[str, str] = {}
        self._cells: dict[str, dict[str, tuple]] = defaultdict(dict)
        self._check_class = self._check_named(self.classes, "class")
        self._check_department = self._check_named(self.departments, "department")
        self.notes_count: dict[str, int] = defaultdict(int)
        self._countries: dict[str, tuple] = {}
        self._regions: dict[tuple, tuple] = {}
        self.derives_name = "first_name" in _field_names(Customer)
        self.contact_flags = {
            kind: flag for kind, flag in PHONE_FLAGS.items() if flag in _field_names(Contact)
        }

    # --- header --------------------------------------------------------------------

    def check_header(self, header: list[str]) -> list[RowError]:
        """The columns of the file, through the mapping; an error per unusable header."""
        known = column_names()
        mapping = self.options.mapping
        errors = []
        self.header = list(header)
        self.fatal_header = False
        self.index = {}
        self.custom_columns = []
        self.unknown_headers = []
        for position, raw in enumerate(header):
            if raw in mapping:
                name = mapping[raw]
                if not name:
                    continue  # the user chose to ignore this column
                if name not in known and not name.startswith(CUSTOM_FIELD_PREFIX):
                    errors.append(RowError(1, raw, f"“{name}” is not a column of Patron."))
                    continue
            else:
                name = normalise_header(raw)
            if not name:
                if raw.strip():
                    errors.append(RowError(1, raw, "This column has no usable name."))
                continue
            if name in self.index:
                errors.append(RowError(1, raw, f"The column “{name}” appears twice."))
                continue
            if name in READ_PAST and raw not in mapping:
                continue  # the reason column of a file of rejected rows
            if name.startswith(CUSTOM_FIELD_PREFIX):
                field_, message = self._custom_field(name, raw)
                if message:
                    errors.append(RowError(1, raw, message))
                elif field_ is None:
                    self.index[name] = position
                    self.new_custom_columns.append(name)
                else:
                    self.index[name] = position
                    self.custom_columns.append((name, field_))
                continue
            if name not in known:
                self.unknown_headers.append(raw)
                suggestion = suggest(name, known)
                hint = f" Did you mean “{suggestion}”?" if suggestion else ""
                errors.append(
                    RowError(
                        1,
                        raw,
                        f"Unknown column “{raw}”.{hint} Map it to one of Patron's columns, or "
                        "choose to ignore it, on the column mapping page.",
                    )
                )
                continue
            self.index[name] = position
        # A name may also come from a company name or a person's first and last name.
        named_by = {"first_name", "last_name", "company"} & set(self.index)
        for name in REQUIRED:
            absent = name not in self.index and not named_by and self.options.mode != "update"
            if absent and not any(e.column == name for e in errors):
                errors.append(RowError(1, name, f"The required column “{name}” is missing."))
                self.fatal_header = True
        key = self.options.match_on
        if self.options.updates and key not in self.index:
            label = key.replace("_", " ")
            errors.append(
                RowError(1, key, f"An update finds each customer by its {label}: add the column.")
            )
            self.fatal_header = True
        if self.new_custom_columns and self.options.create_missing:
            message = refusal(self.actor, ["custom field"])
            if message:
                errors.append(RowError(1, self.new_custom_columns[0], message))
        self._prepare_columns()
        return errors

    def _prepare_columns(self) -> None:
        self._blank = dict.fromkeys([*column_names(), *self.index], "")
        self.contact_columns = [
            (prefix, [(f, f"{prefix}_{f}") for f, _, _ in contact_fields()])
            for prefix in CONTACT_PREFIXES
            if any(f"{prefix}_{f}" in self.index for f, _, _ in contact_fields())
        ]
        # The contact fields each contact's columns give (an update changes only those).
        self.contact_present = [
            {f for f, column in columns if column in self.index}
            for _prefix, columns in self.contact_columns
        ]
        self.lengths = {}
        for column, attname in TEXT_FIELDS.items():
            if column in self.index:
                limit = Customer._meta.get_field(attname).max_length
                if limit:
                    self.lengths[column] = limit
        if "account_number" in self.index:
            self.lengths["account_number"] = Customer._meta.get_field("account_number").max_length
        for _prefix, columns in self.contact_columns:
            for name, column in columns:
                if name in CONTACT_TEXT and column in self.index:
                    self.lengths[column] = Contact._meta.get_field(name).max_length

    def _custom_field(self, name: str, raw: str) -> tuple[CustomField | None, str | None]:
        """The custom field a `custom:<key>` column names; None for one the import will
        create; or an error message."""
        key = name[len(CUSTOM_FIELD_PREFIX) :].strip()
        field_ = self.custom_fields.get(key)
        if field_ is None:
            if self.options.create_missing and key and may_create(self.actor, "custom field"):
                return None, None
            by_label = {f.label.lower(): k for k, f in self.custom_fields.items()}
            close = suggest(key, [*self.custom_fields, *by_label])
            suggestion = by_label.get(close, close)
            hint = f" Did you mean “{CUSTOM_FIELD_PREFIX}{suggestion}”?" if suggestion else ""
            self.missing.count("custom field", key)
            return None, (
                f"Unknown column “{raw}”: there is no custom field with the key “{key}”.{hint}"
            )
        if field_.archived:
            return None, (
                f"The custom field {field_.label} is archived and cannot be imported; "
                "remove the column."
            )
        return field_, None

    # --- rows ----------------------------------------------------------------------

    def _cached(self, column: str, text: str, check) -> tuple:
        """`check(text, error)` once per distinct `text` of `column`: (result, errors).

        The errors are (column, message) pairs, replayed for every row with that
        text; a message of None records a missing name (column, name) instead.
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
            elif not status.visible_in_backend:
                error("status", f"“{status}” is a hidden status; choose another.")
        elif status is None:
            error("status", "Patron has no assignable status; create one first.")
        return status

    def _named(self, names: Names, text: str, column: str, error):
        obj, message = names.get(text)
        if obj is None:
            error(("missing", names.kind), text)
            if message:
                error(column, message)
        return obj

    def _check_named(self, names: Names, column: str):
        def check(text: str, error):
            if not text:
                return None
            return self._named(names, text, column, error)

        return check

    def _check_tags(self, text: str, error) -> list:
        return self._names_list(text, self.tags, "tags", error)

    def _check_group_cell(self, text: str, error) -> list:
        groups = self._names_list(text, self.groups, "groups", error)
        self._check_groups(groups, error)
        return groups

    def _check_custom(self, values: dict, error) -> dict:
        custom = {}
        for column, field_ in self.custom_columns:
            raw = values[column]
            if not raw:
                custom[field_.key] = None
                continue
            try:
                value = parse_value(field_, raw)
            except DjangoValidationError as exc:
                error(column, exc.messages[0])
            else:
                custom[field_.key] = value
        for column in self.new_custom_columns:
            raw = values[column]
            key = column[len(CUSTOM_FIELD_PREFIX) :].strip()
            if raw:
                self.missing.count("custom field", key)
                if len(raw) > 1000:
                    error(column, f"{key} can be at most 1000 characters long.")
        return custom

    def _values(self, cells: list[str]) -> dict[str, str]:
        """The row's cells by column name: every column, absent ones and short rows empty."""
        values = self._blank.copy()
        width = len(cells)
        for name, pos in self.index.items():
            values[name] = cells[pos] if pos < width else ""
        return values

    def _replay(self, messages, error, missing_seen: set) -> None:
        for column, message in messages:
            if isinstance(column, tuple):
                key = (column[1], message.lower())
                if key not in missing_seen:
                    missing_seen.add(key)
                    self.missing.count(column[1], message)
            else:
                error(column, message)

    def check_row(self, number: int, cells: list[str]) -> tuple[CheckedRow | None, list[RowError]]:
        errors: list[RowError] = []
        index = self.index
        values = self._values(cells)
        cell = values.__getitem__

        def error(column, message):
            errors.append(RowError(number, column, message))

        for column, limit in self.lengths.items():
            value = values[column]
            if value and len(value) > limit:
                error(column, f"Use at most {limit} characters (this has {len(value)}).")
        account = cell("account_number")
        name = cell("name")
        named = self.derives_name and any(cell(c) for c in ("first_name", "last_name", "company"))
        if not name and not named and ("name" in index or self.options.mode != "update"):
            error("name", "The name is required.")
        kind = KINDS.get(cell("kind").lower())
        if kind is None:
            error("kind", f"Use “person” or “company”, not “{cell('kind')}”.")
        elif not cell("kind") and cell("company") and not (cell("first_name") or cell("last_name")):
            # A row with a company name and no person's name is a company.
            kind = Customer.Kind.COMPANY
        missing_seen: set = set()
        status = None
        if "status" in index or self.options.creates:
            status, messages = self._cached("status", cell("status"), self._check_status)
            self._replay(messages, error, missing_seen)
        customer_class, messages = self._cached("class", cell("class"), self._check_class)
        self._replay(messages, error, missing_seen)
        department, messages = self._cached(
            "department", cell("department"), self._check_department
        )
        self._replay(messages, error, missing_seen)
        notes = []
        country = self._country(cell("country"), "country", error)
        if not cell("country") and country:
            notes.append("home_country")
        tags = groups = None
        if "tags" in index:
            tags, messages = self._cached("tags", cell("tags"), self._check_tags)
            self._replay(messages, error, missing_seen)
        if "groups" in index:
            groups, messages = self._cached("groups", cell("groups"), self._check_group_cell)
            self._replay(messages, error, missing_seen)
        contacts = self._contacts(cell, error, country, notes) if self.contact_columns else []
        custom = (
            self._check_custom(values, error)
            if self.custom_columns or self.new_custom_columns
            else None
        )
        match_key = cell(self.options.match_on) if self.options.match_on in index else account
        if match_key:
            earlier = self.seen.get(match_key)
            if earlier is not None:
                label = (
                    "Account number"
                    if self.options.match_on == "account_number"
                    else "External reference"
                )
                error(
                    self.options.match_on,
                    f"{label} {match_key} is already used in row {earlier} of this file; "
                    "each customer may appear only once.",
                )
            else:
                self.seen[match_key] = number
        if self.options.match_on != "account_number" and account:
            earlier = self.seen.get(("account", account))
            if earlier is not None:
                error(
                    "account_number",
                    f"Account number {account} is already used in row {earlier} of this file.",
                )
            else:
                self.seen[("account", account)] = number
        referrer = cell("referred_by")
        if referrer and referrer in (account, ""):
            error("referred_by", "A customer cannot be referred by themselves.")
        blank = set()
        row_values = {"name": name, "kind": kind or Customer.Kind.PERSON}
        if not cell("kind"):
            blank.add("kind")
        if "name" not in index:
            blank.add("name")
        if "country" not in index:
            blank.add("service_country")
        for column, attname in TEXT_FIELDS.items():
            if column in index and column != "name":
                row_values[attname] = values[column]
        if "external_reference" in row_values:
            row_values["external_reference"] = row_values["external_reference"] or None
        if self.derives_name:
            derived = Customer.derived_name(
                kind=row_values["kind"],
                first_name=row_values.get("first_name", ""),
                last_name=row_values.get("last_name", ""),
                company_name=row_values.get("company_name", ""),
                name=name,
            )
            if derived and derived != name:
                row_values["name"] = derived
                blank.discard("name")
        if "region" in index and cell("region"):
            row_values["service_region"] = self._region(cell("region"), country, "region", error)
        if "class" in index:
            row_values["customer_class_id"] = customer_class.pk if customer_class else None
        if "department" in index:
            row_values["department_id"] = department.pk if department else None
        row_values["service_country"] = country
        self._coordinates(cell, index, row_values, error)
        self._billing(cell, index, row_values, error)
        if "tax_number" in index and cell("tax_number"):
            tax_country = (
                row_values.get("billing_country")
                if not row_values.get("billing_same_as_service", True)
                else country
            )
            try:
                row_values["tax_number"] = validate_tax_number(cell("tax_number"), tax_country)
            except DjangoValidationError as exc:
                error("tax_number", exc.messages[0])
        if "archived" in index:
            archived = parse_yes_no(cell("archived"))
            if archived is None:
                error("archived", f"Use yes or no, not “{cell('archived')}”.")
            row_values["archived"] = bool(archived)
        for column, attname in (("status_since", "status_since"), ("created", "created")):
            if column in index:
                text = cell(column)
                if not text:
                    blank.add(attname)
                    continue
                try:
                    day = datetime.date.fromisoformat(text)
                except ValueError:
                    error(column, f"Give the date as 2024-05-31, not “{text}”.")
                    continue
                row_values[attname] = day
        if errors:
            return None, errors
        return (
            CheckedRow(
                number,
                account,
                row_values,
                status,
                tags,
                groups,
                contacts,
                custom,
                frozenset(blank),
                referrer,
                match_key,
                notes=tuple(notes),
            ),
            [],
        )

    def _country(self, text: str, column: str, error) -> str:
        hit = self._countries.get(text)
        if hit is None:
            try:
                hit = (parse_country(text), None)
            except DjangoValidationError as exc:
                hit = ("", exc.messages[0])
            self._countries[text] = hit
        if hit[1]:
            error(column, hit[1])
        return hit[0]

    def _region(self, text: str, country: str, column: str, error) -> str:
        key = (text, country)
        hit = self._regions.get(key)
        if hit is None:
            try:
                hit = (parse_region(text, country), None)
            except DjangoValidationError as exc:
                hit = ("", exc.messages[0])
            self._regions[key] = hit
        if hit[1]:
            error(column, hit[1])
        return hit[0]

    def _coordinates(self, cell, index, row_values: dict, error) -> None:
        if "latitude" not in index and "longitude" not in index:
            return
        found = {}
        for column, low, high in (("latitude", -90, 90), ("longitude", -180, 180)):
            text = cell(column).replace(",", ".") if column in index else ""
            if not text:
                found[column] = None
                continue
            try:
                value = Decimal(text).quantize(Decimal("0.000001"))
            except InvalidOperation:
                error(column, f"Give the {column} as a number like 53.8, not “{cell(column)}”.")
                continue
            if not low <= value <= high:
                error(column, f"The {column} must be between {low} and {high}.")
                continue
            found[column] = value
        if len(found) == 2 and (found["latitude"] is None) != (found["longitude"] is None):
            error(
                "longitude" if found["longitude"] is None else "latitude",
                "Give both latitude and longitude, or neither.",
            )
        row_values.update(found)

    def _billing(self, cell, index, row_values: dict, error) -> None:
        present = [c for c in BILLING_COLUMNS if c in index]
        if not present:
            return
        elsewhere = any(cell(c) for c in present)
        country = ""
        if "billing_country" in index and cell("billing_country"):
            country = self._country(cell("billing_country"), "billing_country", error)
        elif elsewhere:
            # A billing address without a country is in the service address's country.
            country = row_values.get("service_country", "")
        if "billing_country" in index or elsewhere:
            row_values["billing_country"] = country
        if "billing_region" in index and cell("billing_region"):
            row_values["billing_region"] = self._region(
                cell("billing_region"), country, "billing_region", error
            )
        row_values["billing_same_as_service"] = not elsewhere

    def _names_list(self, text: str, names: Names, column: str, error) -> list:
        if not text:
            return []
        found = {}
        for part in text.split(LIST_SEPARATOR):
            part = part.strip()
            if not part:
                continue
            obj = self._named(names, part, column, error)
            if obj is not None:
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
        # A customer must stay in a group the uploader works with, by hand; a dynamic
        # group takes nobody by hand, so it does not count here.
        if self.restricted_paths and not any(
            g.segment_id is None and g.path.startswith(p)
            for g in groups
            for p in self.restricted_paths
        ):
            error(
                "groups",
                "You may add customers only to the groups you work with; name one of them.",
            )

    def _phone(self, raw: str, country: str, column: str, error, notes: list) -> tuple[str, bool]:
        """(number to store, kept as written unverified)."""
        number, message = self.phones.normalise(raw, country)
        if not message:
            return number, False
        if self.options.keep_invalid_phones and self.contact_flags:
            if not self.phones.can_keep(raw):
                error(
                    column, f"{message} It is too long to keep as written (20 characters at most)."
                )
                return "", False
            notes.append("phone_kept")
            return raw, True
        error(column, message)
        return "", False

    def _contacts(self, cell, error, country: str, notes: list) -> list[dict | None]:
        contacts: list[dict | None] = []
        index = self.index
        for prefix, columns in self.contact_columns:
            data = {f: cell(column) for f, column in columns}
            if not any(data[f] for f, column in columns if column in index):
                contacts.append(None)
                continue
            if self.derives_name and (data.get("first_name") or data.get("last_name")):
                data["name"] = " ".join(
                    f"{data.get('first_name', '')} {data.get('last_name', '')}".split()
                )
            if not data.get("name") and (cell("first_name") or cell("last_name")):
                # A person's own details: the contact is the customer.
                data["name"] = " ".join(f"{cell('first_name')} {cell('last_name')}".split())
            if not data.get("name"):
                error(
                    f"{prefix}_name",
                    "Give the contact's name when other contact columns are filled.",
                )
            if data.get("email") and not check_email(data["email"]):
                error(f"{prefix}_email", f"“{data['email']}” is not a valid email address.")
            where = country
            if data.get("country"):
                where = data["country"] = self._country(data["country"], f"{prefix}_country", error)
            for kind in CONTACT_PHONES:
                if kind not in data:
                    continue
                kept = False
                if data[kind]:
                    data[kind], kept = self._phone(
                        data[kind], where, f"{prefix}_{kind}", error, notes
                    )
                if kind in self.contact_flags:
                    data[self.contact_flags[kind]] = kept
            for flag in CONTACT_FLAGS:
                if flag in data:
                    value = parse_yes_no(data[flag])
                    if value is None:
                        error(f"{prefix}_{flag}", f"Use yes or no, not “{data[flag]}”.")
                    data[flag] = bool(value)
            data["is_primary"] = not any(contacts)
            contacts.append(data)
        return contacts

    # --- whole file ----------------------------------------------------------------

    def check_rows(self, rows: Iterator[list[str]], against_database) -> Iterator[tuple]:
        """Yield (valid rows, errors, rejected) a chunk at a time; rows start at 2.

        `rejected` is (row number, cells, reasons) for each row with an error.
        """
        chunk: list[CheckedRow] = []
        errors: list[RowError] = []
        raw: dict[int, list[str]] = {}
        for number, cells in enumerate(rows, start=2):
            if not any(cells):
                continue
            checked, row_errors = self.check_row(number, cells)
            if checked is not None:
                chunk.append(checked)
                for note in checked.notes:
                    self.notes_count[note] += 1
            raw[number] = cells
            errors.extend(row_errors)
            if len(chunk) >= CHUNK:
                yield self._finish_chunk(chunk, errors, raw, against_database)
                chunk, errors, raw = [], [], {}
        if chunk or errors:
            yield self._finish_chunk(chunk, errors, raw, against_database)

    def _finish_chunk(self, chunk, errors, raw, against_database):
        chunk, errors = against_database(self, chunk, errors)
        errors.sort(key=lambda e: e.row)
        reasons = defaultdict(list)
        for e in errors:
            reasons[e.row].append(f"{e.column}: {e.message}" if e.column else e.message)
        rejected = [(row, raw.get(row, []), "; ".join(texts)) for row, texts in reasons.items()]
        return chunk, errors, rejected

    def creating_refusal(self) -> str:
        """Why the missing names cannot be created by this user ("" when they can)."""
        return refusal(self.actor, {item["kind"] for item in self.missing.as_list()})

    def may_create_all(self) -> bool:
        return all(may_create(self.actor, item["kind"]) for item in self.missing.as_list())


def preview_row(row: CheckedRow) -> dict:
    action = "create" if row.existing_id is None else "update"
    return {
        "row": row.row,
        "action": action,
        "account_number": row.account_number,
        "name": row.values["name"],
        "country": row.values.get("service_country", ""),
        "status": row.status.name if row.status is not None else "",
        "tags": [t.name for t in row.tags or []],
        "groups": [g.name for g in row.groups or []],
        "contacts": [c["name"] for c in row.contacts if c],
        "notes": [NOTE_TEXT[n] for n in row.notes],
    }


NOTE_TEXT = {
    "home_country": "No country given: the home country was used.",
    "phone_kept": "A phone number that is not valid was kept as written, unverified.",
}


def group_errors_by_row(errors: list[dict]) -> list[tuple[int, list[dict]]]:
    by_row = defaultdict(list)
    for item in errors:
        by_row[item["row"]].append(item)
    return sorted(by_row.items())
