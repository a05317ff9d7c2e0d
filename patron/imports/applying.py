"""Writing checked rows: set-based inserts, never one ORM save per customer.

Customer ids are taken from the table's sequence a chunk at a time, so the
contacts, tags, memberships, status history and events of a chunk are all
written knowing their customer's id: with COPY on PostgreSQL and one
`executemany` per table on SQLite. Every column gets its model default, so
the rows are exactly what the ORM would have written.
"""

from __future__ import annotations

import json
from collections.abc import Container, Iterable

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection, models
from django.db.models import F
from django.utils import timezone

from patron.core.actor import Actor
from patron.core.models import Sequence
from patron.customers.models import Contact, Customer, CustomerTag, GroupMembership, StatusChange
from patron.events.models import Event
from patron.groups.models import Group


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
        return value.translate(_COPY_ESCAPES)
    if value is None:
        return "\\N"
    if kind is bool:
        return "t" if value else "f"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


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

    def integer_rows(self, names: tuple[str, ...], values: list[tuple], **constants):
        """Rows that differ only in the integer columns `names`, the rest fixed.

        The many link rows of an import (five tags a customer) are built this
        way: on PostgreSQL as COPY text from one template, with no per-value work.
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
        if order == list(range(len(names))):
            return CopyText("".join(template.format(*v) for v in values))
        return CopyText("".join(template.format(*(v[i] for i in order)) for v in values))

    def write(self, rows) -> None:
        if not rows:
            return
        table = connection.ops.quote_name(self.model._meta.db_table)
        columns = ", ".join(connection.ops.quote_name(c) for c in self.columns)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                text = rows if isinstance(rows, CopyText) else copy_text(rows)
                with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
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
        Sequence.objects.get_or_create(name="customer")
        seq = Sequence.objects.select_for_update().get(name="customer")
        start = seq.value + 1
        Sequence.objects.filter(pk="customer").update(value=F("value") + wanted)
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
        customers, contacts, tags, memberships, history, events = [], [], [], [], [], []
        for row, pk in zip(chunk, ids, strict=True):
            values = row.values
            customers.append(
                self.customers.row(
                    id=pk,
                    account_number=row.account_number,
                    status_id=row.status.pk,
                    status_since=self.today_db,
                    **values,
                )
            )
            for contact in row.contacts:
                contacts.append(self.contacts.row(customer_id=pk, **contact))
            for tag in row.tags:
                tags.append((pk, tag.id))
            for group in row.groups:
                self.groups_used.add(group.pk)
                memberships.append(
                    self.memberships.row(
                        customer_id=pk,
                        group_id=group.pk,
                        group_set_id=group.group_set_id,
                        exclusive=group.group_set.single_choice,
                    )
                )
            history.append((pk, row.status.id))
            changes = {
                "account_number": [None, row.account_number],
                "name": [None, values["name"]],
                "status": [None, row.status.name],
            }
            if row.tags:
                changes["tags"] = [[], sorted(t.name for t in row.tags)]
            if row.groups:
                changes["groups"] = [[], sorted(g.name for g in row.groups)]
            if row.contacts:
                changes["contacts"] = [[], [c["name"] for c in row.contacts]]
            events.append(
                self.events.row(
                    created=self.now_db,
                    actor_kind=self.actor.kind,
                    actor_user_id=self.user_id,
                    actor_token_id=self.token_id,
                    actor_label=self.actor.label[:200],
                    action="created",
                    object_type_id=self.content_type,
                    object_id=str(pk),
                    object_repr=f"{values['name']} ({row.account_number})"[:200],
                    customer_id=pk,
                    message=self.message,
                    changes=json.dumps(changes),
                    reason=self.reason,
                )
            )
        self.customers.write(customers)
        self.contacts.write(contacts)
        self.tags.write(self.tags.integer_rows(("customer_id", "tag_id"), tags))
        self.memberships.write(memberships)
        self.history.write(
            self.history.integer_rows(
                ("customer_id", "to_status_id"),
                history,
                reason="Account opened (import)",
                effective_date=self.today_db,
                state="applied",
                changed_by_id=self.user_id,
                changed_by_label=self.actor.label[:200],
                applied_at=self.now_db,
            )
        )
        self.events.write(events)
        self.written += len(chunk)
        return len(chunk)

    def finish(self) -> None:
        if self.groups_used:
            Group.objects.filter(pk__in=self.groups_used, was_used=False).update(was_used=True)
