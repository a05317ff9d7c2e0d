"""A chunk of checked rows against the database: which create, which update, which fail.

- *create only*: an account number Patron already holds is refused (in words
  that reveal nothing about a customer the uploader cannot see).
- *update existing*: each row names a customer by account number (or external
  reference) among those the uploader may change; any other, whether it does
  not exist or is out of the uploader's reach, is refused with the same
  message, as if it did not exist.
- *create or update*: a customer found is updated, a number nobody holds is
  created.

For each update the current values are read (one query per table per
chunk) and compared with the row; a row that would change nothing is
counted as unchanged and left alone, so it writes no event.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from patron.customers.models import Contact, Customer, CustomerTag, GroupMembership
from patron.imports.checking import (
    CONTACT_FLAGS,
    CONTACT_PHONES,
    CONTACT_TEXT,
    PHONE_FLAGS,
    RowError,
)

# Labels of the fields an update event lists.
LABELS = {
    "name": "name",
    "kind": "kind",
    "customer_class_id": "class",
    "department_id": "department",
    "service_street": "street",
    "service_city": "city",
    "service_region": "region",
    "service_postcode": "postcode",
    "service_country": "country",
    "latitude": "latitude",
    "longitude": "longitude",
    "billing_same_as_service": "billing address as service address",
    "billing_street": "billing street",
    "billing_city": "billing city",
    "billing_region": "billing region",
    "billing_postcode": "billing postcode",
    "billing_country": "billing country",
    "notes": "notes",
    "archived": "archived",
    "status_since": "status since",
    "created": "joined",
    "referred_by_id": "referred by",
    "external_reference": "external reference",
    "first_name": "first name",
    "last_name": "last name",
    "company_name": "company",
    "vat_number": "VAT number",
}


@dataclass
class UpdatePlan:
    """What an update row changes on one customer (only what differs)."""

    customer_id: int
    version: int
    repr: str
    fields: dict = field(default_factory=dict)
    changes: dict = field(default_factory=dict)
    status_from: int | None = None
    status_to: int | None = None
    tags_add: list = field(default_factory=list)
    tags_remove: list = field(default_factory=list)
    groups_add: list = field(default_factory=list)
    groups_remove: list = field(default_factory=list)
    contacts_update: list = field(default_factory=list)
    contacts_create: list = field(default_factory=list)

    @property
    def unchanged(self) -> bool:
        return not (
            self.fields
            or self.status_to
            or self.tags_add
            or self.tags_remove
            or self.groups_add
            or self.groups_remove
            or self.contacts_update
            or self.contacts_create
        )


def _text(value) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    return str(value)


class Matcher:
    """Checks chunks for one file; `__call__` is the checker's `against_database`."""

    def __init__(self, checker, *, names_by_id: dict | None = None, existing_numbers=None):
        self.checker = checker
        # Which of some account numbers the database holds, whoever may see them.
        self.existing_numbers = existing_numbers or existing_account_numbers
        self.options = checker.options
        self.actor = checker.actor
        self.accepted: dict[str, int | None] = {}  # account numbers of accepted rows → id
        self.created_numbers: set[str] = set()
        self.counts = {"create": 0, "update": 0, "unchanged": 0}
        self.names_by_id = names_by_id or {}

    # --- lookups ------------------------------------------------------------------

    def _existing(self, key_field: str, keys: list[str]) -> set[str]:
        if key_field == "account_number":
            return set(self.existing_numbers(keys))
        return set(
            Customer.objects.filter(**{f"{key_field}__in": keys}).values_list(key_field, flat=True)
        )

    def _visible(self, key_field: str, keys, action: str) -> dict[str, int]:
        visible = Customer.objects.restrict(self.actor, action)
        return dict(visible.filter(**{f"{key_field}__in": keys}).values_list(key_field, "pk"))

    def __call__(self, checker, chunk, errors):
        options = self.options
        key_field = options.match_on
        keys = [row.match_key for row in chunk if row.match_key]
        existing = self._existing(key_field, keys) if keys else {}
        visible = self._visible(key_field, list(existing), "change") if existing else {}
        # Account numbers that a created row would take (matching by external reference).
        numbers = [r.account_number for r in chunk if r.account_number]
        taken = (
            self._existing("account_number", numbers)
            if key_field != "account_number" and numbers
            else {}
        )
        seen_numbers = set(self._visible("account_number", list(taken), "view")) if taken else set()
        if key_field == "account_number" and existing:
            seen_numbers = set(self._visible("account_number", list(existing), "view"))
        kept, updates = [], []
        for row in chunk:
            key = row.match_key
            error = self._row_error(row, key, existing, visible, taken, seen_numbers)
            if error is not None:
                errors.append(error)
                continue
            if row.existing_id is not None:
                updates.append(row)
            kept.append(row)
        referrers = {r.referrer for r in kept if r.referrer}
        referrer_ids = {}
        if referrers:
            referrer_ids = dict(
                Customer.objects.restrict(self.actor, "view")
                .filter(account_number__in=referrers)
                .values_list("account_number", "pk")
            )
        accepted = []
        for row in kept:
            if row.referrer:
                if row.referrer in referrer_ids:
                    row.values["referred_by_id"] = referrer_ids[row.referrer]
                elif row.referrer in self.accepted:
                    row.values["referred_by_id"] = ("file", row.referrer)
                else:
                    errors.append(
                        RowError(
                            row.row,
                            "referred_by",
                            f"No customer has the account number {row.referrer}, in Patron or "
                            "on an earlier row of this file; put the referrer's row first.",
                        )
                    )
                    continue
            elif "referred_by" in checker.index:
                row.values["referred_by_id"] = None
            accepted.append(row)
            if row.account_number:
                self.accepted[row.account_number] = row.existing_id
        if updates:
            # By identity: rows are dataclasses, and comparing them field by field made
            # this quadratic in the chunk's size.
            accepted_rows = {id(r) for r in accepted}
            self._plan_updates([r for r in updates if id(r) in accepted_rows])
        result = []
        for row in accepted:
            if row.existing_id is None:
                self.counts["create"] += 1
            elif row.update.unchanged:
                self.counts["unchanged"] += 1
            else:
                self.counts["update"] += 1
            result.append(row)
        return result, errors

    def _row_error(self, row, key, existing, visible, taken, seen_numbers) -> RowError | None:
        options = self.options
        key_field = options.match_on
        label = "account number" if key_field == "account_number" else "external reference"
        if options.mode == "update" and not key:
            return RowError(row.row, key_field, f"Give the {label} of the customer to update.")
        if key and key in visible and options.updates:
            row.existing_id = visible[key]
            return None
        if options.mode == "update":
            return RowError(
                row.row,
                key_field,
                f"There is no customer with the {label} {key} to update. "
                "Check the number, or import the row as a new customer.",
            )
        if key and key in existing:
            # Creating it would take a number (or reference) someone already holds.
            if key_field == "account_number":
                return RowError(row.row, "account_number", _taken_message(key, seen_numbers))
            return RowError(
                row.row,
                key_field,
                f"The external reference {key} cannot be used; another customer has it.",
            )
        if row.account_number and row.account_number in taken:
            return RowError(
                row.row, "account_number", _taken_message(row.account_number, seen_numbers)
            )
        checker = self.checker
        if checker.restricted_paths and row.groups is None:
            return RowError(
                row.row,
                "groups",
                "You may add customers only to the groups you work with; name one of them.",
            )
        if not row.values.get("name"):
            return RowError(row.row, "name", "The name is required for a new customer.")
        return None

    # --- updates ------------------------------------------------------------------

    def _plan_updates(self, rows) -> None:
        ids = [r.existing_id for r in rows]
        wanted = set()
        for row in rows:
            wanted |= set(row.values)
        wanted -= (
            {"referred_by_id"} if not any("referred_by_id" in r.values for r in rows) else set()
        )
        attnames = sorted(wanted)
        current = {
            item["id"]: item
            for item in Customer.objects.filter(pk__in=ids).values(
                "id",
                "version",
                "name",
                "account_number",
                "status_id",
                "custom_fields",
                *[a for a in attnames if a not in ("name",)],
            )
        }
        tags = defaultdict(set)
        groups = defaultdict(set)
        if any(r.tags is not None for r in rows):
            for cid, tid in CustomerTag.objects.filter(customer_id__in=ids).values_list(
                "customer_id", "tag_id"
            ):
                tags[cid].add(tid)
        if any(r.groups is not None for r in rows):
            for cid, gid in GroupMembership.objects.filter(customer_id__in=ids).values_list(
                "customer_id", "group_id"
            ):
                groups[cid].add(gid)
        contacts = defaultdict(list)
        if any(any(c is not None for c in r.contacts) for r in rows):
            fields = [
                f.attname
                for f in Contact._meta.concrete_fields
                if f.attname
                in (
                    *CONTACT_TEXT,
                    *CONTACT_PHONES,
                    *CONTACT_FLAGS,
                    *PHONE_FLAGS.values(),
                    "country",
                    "is_primary",
                )
            ]
            for item in (
                Contact.objects.filter(customer_id__in=ids)
                .order_by("customer_id", "-is_primary", "name", "id")
                .values("id", "customer_id", "version", *fields)
            ):
                contacts[item["customer_id"]].append(item)
        for row in rows:
            now = current[row.existing_id]
            row.update = self._plan(
                row, now, tags[row.existing_id], groups[row.existing_id], contacts[row.existing_id]
            )

    def _plan(self, row, now: dict, tag_ids: set, group_ids: set, contacts: list) -> UpdatePlan:
        plan = UpdatePlan(
            customer_id=now["id"],
            version=now["version"],
            repr=f"{now['name']} ({now['account_number']})",
        )
        for attname, value in row.values.items():
            if attname in row.blank:
                continue
            old = now.get(attname)
            if attname == "created":
                if old is not None and old.date() == value:
                    continue
                value = _midday(value)
            elif isinstance(value, tuple):  # a referrer written earlier in this file
                plan.fields[attname] = value
                plan.changes[LABELS.get(attname, attname)] = [None, value[1]]
                continue
            if old != value:
                plan.fields[attname] = value
                plan.changes[LABELS.get(attname, attname)] = [
                    self._shown(attname, old),
                    self._shown(attname, value),
                ]
        if row.status is not None and row.status.pk != now["status_id"]:
            plan.status_from, plan.status_to = now["status_id"], row.status.pk
            plan.changes["status"] = [
                self.names_by_id.get(("status", now["status_id"]), str(now["status_id"])),
                row.status.name,
            ]
        if row.custom is not None:
            merged = dict(now["custom_fields"] or {})
            for key, value in row.custom.items():
                if value is None:
                    merged.pop(key, None)
                else:
                    merged[key] = value
            if merged != (now["custom_fields"] or {}):
                plan.fields["custom_fields"] = merged
                plan.changes["custom fields"] = [None, None]
        if row.tags is not None:
            wanted = {t.id for t in row.tags}
            plan.tags_add = sorted(wanted - tag_ids)
            plan.tags_remove = sorted(tag_ids - wanted)
            if plan.tags_add or plan.tags_remove:
                plan.changes["tags"] = [
                    ", ".join(sorted(self._name("tag", t) for t in tag_ids)) or None,
                    ", ".join(sorted(t.name for t in row.tags)) or None,
                ]
        if row.groups is not None:
            wanted = {g.id for g in row.groups}
            plan.groups_add = [g for g in row.groups if g.id not in group_ids]
            plan.groups_remove = sorted(group_ids - wanted)
            if plan.groups_add or plan.groups_remove:
                plan.changes["groups"] = [
                    ", ".join(sorted(self._name("group", g) for g in group_ids)) or None,
                    ", ".join(sorted(g.name for g in row.groups)) or None,
                ]
        for position, data in enumerate(row.contacts):
            if data is None:
                continue
            if position < len(contacts):
                have = contacts[position]
                given = self.checker.contact_present[position]
                given = given | {
                    flag for kind, flag in self.checker.contact_flags.items() if kind in given
                }
                if "first_name" in given or "last_name" in given:
                    given = given | {"name"}
                diff = {k: v for k, v in data.items() if k in given and have.get(k) != v}
                if diff:
                    plan.contacts_update.append((have["id"], diff))
                    plan.changes[f"contact {data.get('name') or have['name']}"] = [
                        "; ".join(f"{k}: {have.get(k)}" for k in diff),
                        "; ".join(f"{k}: {v}" for k, v in diff.items()),
                    ]
            else:
                created = dict(data)
                created["is_primary"] = not contacts and position == 0
                plan.contacts_create.append(created)
                plan.changes[f"contact {data.get('name')}"] = [None, "added"]
        return plan

    def _name(self, kind: str, pk: int) -> str:
        return self.names_by_id.get((kind, pk), str(pk))

    def _shown(self, attname: str, value):
        if attname == "customer_class_id" and value is not None:
            return self._name("class", value)
        if attname == "department_id" and value is not None:
            return self._name("department", value)
        return _text(value)


def _midday(day: datetime.date) -> datetime.datetime:
    """The joining date of an imported customer: noon UTC, so it reads back as the same
    day in every export."""
    return datetime.datetime.combine(day, datetime.time(12), tzinfo=datetime.UTC)


def _taken_message(number: str, visible: set[str]) -> str:
    """Why a new row's account number is refused, revealing no customer the uploader
    cannot see (docs/import-export.md)."""
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


def names_by_id() -> dict:
    """(kind, id) → name of the statuses, classes, departments, tags and groups."""
    from patron.classes.models import CustomerClass
    from patron.departments.models import Department
    from patron.groups.models import Group
    from patron.statuses.models import Status
    from patron.tags.models import Tag

    found = {}
    for kind, model in (
        ("status", Status),
        ("class", CustomerClass),
        ("department", Department),
        ("tag", Tag),
        ("group", Group),
    ):
        for pk, name in model.objects.values_list("pk", "name"):
            found[(kind, pk)] = name
    return found
