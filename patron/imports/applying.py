"""Writing checked rows: set-based inserts, never one ORM save per customer.

Customer ids are taken from the table's sequence a chunk at a time, so the
contacts, tags, memberships, status history and events of a chunk are all
written knowing their customer's id: with COPY on PostgreSQL and one
`executemany` per table on SQLite. Every column gets its model default, so
the rows are exactly what the ORM would have written.

The database work that would otherwise run once per row is done once per
import where that gives the same result (see `BulkWriteMode`): the search
index is filled in one set-based statement at the end instead of by the
triggers, and on PostgreSQL the foreign keys are checked once per distinct
referenced row (a status, a tag, a group) instead of once per written row.
"""

from __future__ import annotations

import json
from array import array
from collections.abc import Container, Iterable
from json.encoder import encode_basestring_ascii
from operator import itemgetter

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, connection, models, transaction
from django.utils import timezone

from patron.core.actor import Actor
from patron.core.errors import ValidationError
from patron.core.models import Sequence
from patron.customers.models import Contact, Customer, CustomerTag, GroupMembership, StatusChange
from patron.customfields.models import CustomField
from patron.customfields.values import display_value
from patron.events.models import Event
from patron.groups.models import Group
from patron.imports.matching import _midday
from patron.search import index as search_index


def _adapt(value):
    if isinstance(value, dict | list):
        return json.dumps(value)
    if hasattr(value, "tzinfo") and hasattr(value, "hour"):
        value = connection.ops.adapt_datetimefield_value(value)
        return value.isoformat() if hasattr(value, "isoformat") else value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_value(value) -> str:
    kind = value.__class__
    if kind is str:
        # Most cells need no escape, and looking is much faster than translating.
        if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
            return value.translate(_COPY_ESCAPES)
        return value
    if value is None:
        return "\\N"
    if kind is bool:
        return "t" if value else "f"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _as_is(value):
    return value


def cell_converter():
    """How a varying value is handed to `template_rows`: as COPY text on PostgreSQL, as
    it is on SQLite. Asked once per batch, as the vendor lookup is not free."""
    return _copy_value if connection.vendor == "postgresql" else _as_is


class CopyText(str):
    """Rows already in COPY text format."""


def copy_text(rows: list) -> str:
    """Rows in PostgreSQL's COPY text format: building one string is much faster than
    handing psycopg a row at a time."""
    return "".join("\t".join([_copy_value(v) for v in row]) + "\n" for row in rows)


class TableWriter:
    """Rows for one model: every concrete column, defaults filled in, written in bulk."""

    def __init__(self, model: type[models.Model], *, with_id: bool = False, now=None):
        self.model = model
        fields = [f for f in model._meta.concrete_fields if with_id or not f.primary_key]
        self.columns = [f.column for f in fields]
        self.attnames = [f.attname for f in fields]
        defaults = {}
        for f in fields:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                defaults[f.attname] = now
            elif f.has_default():
                defaults[f.attname] = f.get_default()
            else:
                defaults[f.attname] = None if f.null else ""
        self.defaults = [_adapt(defaults[name]) for name in self.attnames]
        self.positions = {name: i for i, name in enumerate(self.attnames)}

    def row(self, **values) -> list:
        """One row; `values` must already be in database form (see `_adapt`)."""
        row = self.defaults.copy()
        positions = self.positions
        for name, value in values.items():
            row[positions[name]] = value
        return row

    def template_rows(self, names: tuple[str, ...], values: list[tuple], **constants):
        """Rows that differ only in the columns `names`, the rest defaults or `constants`.

        Every row of an import is built this way: on PostgreSQL as COPY text
        from one template, so only the varying cells cost anything. The values
        must be integers or already in COPY form (`cell_converter`) on PostgreSQL,
        and in database form on SQLite.
        """
        base = self.defaults.copy()
        for name, value in constants.items():
            base[self.positions[name]] = value
        if connection.vendor != "postgresql":
            positions = [self.positions[name] for name in names]
            rows = []
            for row_values in values:
                row = base.copy()
                for position, value in zip(positions, row_values, strict=True):
                    row[position] = value
                rows.append(row)
            return rows
        varying = {self.positions[name] for name in names}
        cells = []
        for position, value in enumerate(base):
            if position in varying:
                cells.append("{}")
            else:
                cells.append(_copy_value(value).replace("{", "{{").replace("}", "}}"))
        # The template takes the values in column order; `names` may be in any order.
        order = sorted(range(len(names)), key=lambda i: self.positions[names[i]])
        template = "\t".join(cells) + "\n"
        fill = template.format
        if order == list(range(len(names))):
            return CopyText("".join([fill(*v) for v in values]))
        if len(order) == 1:
            return CopyText("".join([fill(v[0]) for v in values]))
        pick = itemgetter(*order)
        return CopyText("".join([fill(*pick(v)) for v in values]))

    def write(self, rows) -> None:
        if not rows:
            return
        table = connection.ops.quote_name(self.model._meta.db_table)
        columns = ", ".join(connection.ops.quote_name(c) for c in self.columns)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                text = rows if isinstance(rows, CopyText) else copy_text(rows)
                # The raw psycopg cursor's errors become Django's, as for any other write.
                statement = f"COPY {table} ({columns}) FROM STDIN"
                with connection.wrap_database_errors, cursor.cursor.copy(statement) as copy:
                    copy.write(text)
            else:
                marks = ", ".join(["%s"] * len(self.columns))
                cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)


class CustomerIds:
    """New customer ids, reserved from the table's own sequence."""

    def __init__(self):
        self._next = None

    def take(self, count: int) -> list[int]:
        table = Customer._meta.db_table
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                    [table, count],
                )
                return [row[0] for row in cursor.fetchall()]
            if self._next is None:
                # SQLite: the import's transaction holds the write lock, so nobody
                # else can take these ids before it commits.
                cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
                highest = cursor.fetchone()[0]
                cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
                row = cursor.fetchone()
                self._next = max(highest, row[0] if row else 0) + 1
            ids = list(range(self._next, self._next + count))
            self._next += count
            return ids


def allocate_account_numbers(count: int, taken: Container[str]) -> list[str]:
    """`count` numbers in the configured format, skipping ones in use or in the file."""
    numbers: list[str] = []
    while len(numbers) < count:
        wanted = count - len(numbers)
        start = Sequence.next_value("customer", wanted)
        candidates = [
            settings.PATRON_ACCOUNT_NUMBER_FORMAT.format(n=n) for n in range(start, start + wanted)
        ]
        used = set(
            Customer.objects.filter(account_number__in=candidates).values_list(
                "account_number", flat=True
            )
        )
        numbers.extend(n for n in candidates if n not in used and n not in taken)
    return numbers


class BulkWriteMode:
    """Per-row database work of an import, done once per import instead.

    - PostgreSQL, when Patron's database role may set `session_replication_role`
      (a superuser, or `GRANT SET ON PARAMETER session_replication_role` on
      PostgreSQL 15+): the rows are written with the role set to `replica` for
      just those statements, which skips the per-row foreign-key triggers and
      the search index triggers. The referenced rows (statuses, tags, groups,
      the actor…) are instead locked and checked once each, `FOR KEY SHARE`
      as the foreign-key triggers would, and the index is filled at the end.
    - SQLite in WAL mode (as Patron configures it): the search triggers are
      dropped inside the import's transaction (SQLite's schema changes are
      transactional and the import holds the write lock) and recreated after
      the set-based fill.
    - Otherwise the triggers and foreign keys work row by row, as for any write.

    Either way, the result and every error are the same, and nothing is
    visible to anyone else before the import's single commit.
    """

    def __init__(self):
        self.vendor = connection.vendor
        self.replica = False
        self.dropped_triggers = False
        self.locked: dict[type, set[int]] = {}
        if self.vendor == "postgresql":
            self.replica = self._may_set_replica()
        elif self.vendor == "sqlite" and self._sqlite_wal():
            search_index.run("drop_triggers")
            self.dropped_triggers = True

    @property
    def fills_index(self) -> bool:
        return self.replica or self.dropped_triggers

    @staticmethod
    def _sqlite_wal() -> bool:
        """Readers of a WAL database (Patron's own SQLite file) go on reading the schema as
        it was while the import's transaction changes it; with another journal (an
        in-memory database with a shared cache, as the test server uses) they would
        fail with "database table is locked" until the import commits."""
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            return str(cursor.fetchone()[0]).lower() == "wal"

    @staticmethod
    def _may_set_replica() -> bool:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = replica")
                cursor.execute("SET LOCAL session_replication_role = origin")
        except DatabaseError:
            return False
        return True

    def lock(self, model: type[models.Model], ids: Iterable[int | None], label: str) -> None:
        """Lock the referenced rows as the foreign keys would; refuse if one has gone."""
        if not self.replica:
            return
        done = self.locked.setdefault(model, set())
        wanted = {i for i in ids if i is not None} - done
        if not wanted:
            return
        table = connection.ops.quote_name(model._meta.db_table)
        pk = connection.ops.quote_name(model._meta.pk.column)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {pk} FROM {table} WHERE {pk} = ANY(%s) FOR KEY SHARE", [sorted(wanted)]
            )
            found = {row[0] for row in cursor.fetchall()}
        if found != wanted:
            raise ValidationError(
                f"A {label} named in the file was deleted while the file was being imported, "
                "so nothing was imported. Import the file again."
            )
        done |= wanted

    def write(self, writes: list[tuple[TableWriter, object]]) -> None:
        if not self.replica:
            for table, rows in writes:
                table.write(rows)
            return
        # No `finally`: a failed write aborts the transaction, whose rollback undoes the SET.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
            for table, rows in writes:
                table.write(rows)
            cursor.execute("SET LOCAL session_replication_role = origin")

    def finish(self, customer_ids) -> None:
        if self.fills_index:
            search_index.refresh(customer_ids)
        if self.dropped_triggers:
            search_index.run("triggers")
            self.dropped_triggers = False


class CustomerRowsWriter:
    """Writes chunks of `CheckedRow`s with their contacts, tags, groups, history and events."""

    def __init__(self, *, actor: Actor, message: str, taken_numbers: dict, reason: str = ""):
        self.actor = actor
        self.message = message[:300]
        self.reason = reason
        self.taken = taken_numbers
        self.now = timezone.now()
        self.today = timezone.localdate()
        self.now_db = _adapt(self.now)
        self.today_db = _adapt(self.today)
        self.ids = CustomerIds()
        self.customers = TableWriter(Customer, with_id=True, now=self.now)
        self.contacts = TableWriter(Contact, now=self.now)
        self.tags = TableWriter(CustomerTag, now=self.now)
        self.memberships = TableWriter(GroupMembership, now=self.now)
        self.history = TableWriter(StatusChange, now=self.now)
        self.events = TableWriter(Event, now=self.now)
        self.content_type = ContentType.objects.get_for_model(Customer).pk
        self.user_id = actor.user.pk if actor.user is not None and actor.user.pk else None
        self.token_id = actor.token.pk if actor.token is not None else None
        self.groups_used: set[int] = set()
        self.written = 0
        self.customer_ids = array("q")
        self.mode = BulkWriteMode()
        self._json: dict = {}
        self._status_json: dict[int, str] = {}
        self._group_cells: dict[int, tuple] = {}
        self._actor_locked = False
        self.cell = cell_converter()
        self.custom_labels = dict(CustomField.objects.values_list("key", "label"))
        # Account number → id of every customer this import wrote (for referrers).
        self.numbers: dict[str, int] = {}

    # Each event's `changes` is written as JSON text built from pieces, the same text
    # `json.dumps` gives for the dict, with the parts shared by many rows made once.
    def _names_json(self, key: str, items: list) -> str:
        if not items:
            return ""
        # The checker hands the same list to every row with the same cell text.
        known = self._json.get(id(items))
        if known is not None and known[0] is items:
            return known[1]
        text = f', "{key}": [[], {json.dumps(sorted(i.name for i in items))}]'
        if len(self._json) < 100_000:
            self._json[id(items)] = (items, text)
        return text

    def _changes(self, row, name: str) -> str:
        status = row.status
        status_text = self._status_json.get(status.id)
        if status_text is None:
            status_text = self._status_json[status.id] = encode_basestring_ascii(status.name)
        text = (
            f'{{"account_number": [null, {encode_basestring_ascii(row.account_number)}], '
            f'"name": [null, {encode_basestring_ascii(name)}], "status": [null, {status_text}]'
            f"{self._names_json('tags', row.tags or [])}"
            f"{self._names_json('groups', row.groups or [])}"
        )
        people = [c for c in row.contacts if c]
        if people:
            names = ", ".join(encode_basestring_ascii(c["name"]) for c in people)
            text += f', "contacts": [[], [{names}]]'
        if row.custom:
            # Custom values by their field's label, as the Custom tab's own events show them.
            for key, value in row.custom.items():
                if value is None:
                    continue
                label = encode_basestring_ascii(self.custom_labels.get(key, key))
                shown = encode_basestring_ascii(display_value(None, value))
                text += f", {label}: [null, {shown}]"
        return text + "}"

    def _group_cell(self, group) -> tuple:
        """A membership's varying cells for one group, made once per group."""
        cells = self._group_cells.get(group.id)
        if cells is None:
            single = group.group_set.single_choice
            cells = self._group_cells[group.id] = (group.id, group.group_set_id, self.cell(single))
        return cells

    def _lock_actor(self) -> None:
        if self._actor_locked:
            return
        from patron.accounts.models import ApiToken, User

        self.mode.lock(User, [self.user_id], "user")
        self.mode.lock(ApiToken, [self.token_id], "API token")
        self.mode.lock(ContentType, [self.content_type], "content type")
        self._actor_locked = True

    def _creation_values(self, row) -> dict:
        """The row's customer fields for a new customer: defaults for the empty cells
        an update would leave alone, and referrers from earlier rows resolved."""
        values = row.values
        if row.blank or "created" in values or "archived" in values or "referred_by_id" in values:
            values = dict(values)
            if "created" in values:
                values["created"] = _adapt(_midday(values["created"]))
            elif "created" in row.blank:
                values["created"] = self.now_db
            if "status_since" in values:
                values["status_since"] = _adapt(values["status_since"])
            elif "status_since" in row.blank:
                values["status_since"] = self.today_db
            if "archived" in values:
                values["archived_at"] = self.now_db if values["archived"] else None
            referrer = values.get("referred_by_id")
            if isinstance(referrer, tuple):
                values["referred_by_id"] = self.numbers[referrer[1]]
        return values

    def write(self, chunk: Iterable) -> int:
        chunk = list(chunk)
        if not chunk:
            return 0
        blank = [row for row in chunk if not row.account_number]
        if blank:
            numbers = allocate_account_numbers(len(blank), self.taken)
            for row, number in zip(blank, numbers, strict=True):
                row.account_number = number
                self.taken[number] = row.row
        ids = self.ids.take(len(chunk))
        for row, pk in zip(chunk, ids, strict=True):
            self.numbers[row.account_number] = pk
        cell = self.cell
        first = self._creation_values(chunk[0])
        value_names = tuple(first)
        with_custom = chunk[0].custom is not None
        if with_custom:
            value_names += ("custom_fields",)
        contact_names = None
        customers, contacts, tags, memberships, history, events = [], [], [], [], [], []
        statuses, tag_ids, group_ids, group_set_ids = set(), set(), set(), set()
        for row, pk in zip(chunk, ids, strict=True):
            values = first if row is chunk[0] else self._creation_values(row)
            status_id = row.status.id
            statuses.add(status_id)
            name = values["name"]
            customer = [
                pk,
                cell(row.account_number),
                status_id,
                *[cell(v) for v in values.values()],
            ]
            if with_custom:
                custom = {k: v for k, v in row.custom.items() if v is not None}
                customer.append(cell(json.dumps(custom)))
            customers.append(customer)
            for contact in row.contacts:
                if contact is None:
                    continue
                if contact_names is None:
                    contact_names = tuple(contact)
                contacts.append((pk, *[cell(v) for v in contact.values()]))
            for tag in row.tags or ():
                tag_id = tag.id
                tag_ids.add(tag_id)
                tags.append((pk, tag_id))
            for group in row.groups or ():
                cells = self._group_cell(group)
                group_ids.add(cells[0])
                group_set_ids.add(cells[1])
                memberships.append((pk, *cells))
            history.append((pk, status_id))
            events.append(
                (
                    str(pk),
                    cell(f"{name} ({row.account_number})"[:200]),
                    pk,
                    cell(self._changes(row, name)),
                )
            )
        self.groups_used |= group_ids
        self._lock_references(chunk, statuses, tag_ids, group_ids, group_set_ids)
        writes = [
            (
                self.customers,
                self.customers.template_rows(
                    ("id", "account_number", "status_id", *value_names),
                    customers,
                    status_since=self.today_db,
                ),
            )
        ]
        if contacts:
            writes.append(
                (
                    self.contacts,
                    self.contacts.template_rows(("customer_id", *contact_names), contacts),
                )
            )
        writes.append((self.tags, self.tags.template_rows(("customer_id", "tag_id"), tags)))
        writes.append(
            (
                self.memberships,
                self.memberships.template_rows(
                    ("customer_id", "group_id", "group_set_id", "exclusive"), memberships
                ),
            )
        )
        writes.append(
            (
                self.history,
                self.history.template_rows(
                    ("customer_id", "to_status_id"),
                    history,
                    reason="Account opened (import)",
                    effective_date=self.today_db,
                    state="applied",
                    changed_by_id=self.user_id,
                    changed_by_label=self.actor.label[:200],
                    applied_at=self.now_db,
                ),
            )
        )
        writes.append(
            (
                self.events,
                self.events.template_rows(
                    ("object_id", "object_repr", "customer_id", "changes"),
                    events,
                    created=self.now_db,
                    actor_kind=self.actor.kind,
                    actor_user_id=self.user_id,
                    actor_token_id=self.token_id,
                    actor_label=self.actor.label[:200],
                    action="created",
                    object_type_id=self.content_type,
                    message=self.message,
                    reason=self.reason,
                ),
            )
        )
        self.mode.write(writes)
        self.customer_ids.extend(ids)
        self.written += len(chunk)
        return len(chunk)

    def _lock_references(self, chunk, statuses, tag_ids, group_ids, group_set_ids) -> None:
        from patron.classes.models import CustomerClass
        from patron.departments.models import Department
        from patron.groups.models import GroupSet
        from patron.statuses.models import Status
        from patron.tags.models import Tag

        if not self.mode.replica:
            return
        self._lock_actor()
        self.mode.lock(Status, statuses, "status")
        self.mode.lock(CustomerClass, {r.values.get("customer_class_id") for r in chunk}, "class")
        self.mode.lock(Department, {r.values.get("department_id") for r in chunk}, "department")
        self.mode.lock(Tag, tag_ids, "tag")
        self.mode.lock(GroupSet, group_set_ids, "group set")
        self.mode.lock(Group, group_ids, "group")

    def finish(self) -> None:
        self.mode.finish(self.customer_ids)
        if self.groups_used:
            Group.objects.filter(pk__in=self.groups_used, was_used=False).update(was_used=True)
