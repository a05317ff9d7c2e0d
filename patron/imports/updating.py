"""Writing the updates of an import: set-based, one statement per table and chunk.

Rows are grouped by the set of fields they change; each group is one
`UPDATE … FROM` a temporary table filled by COPY on PostgreSQL, and one
`executemany` on SQLite. Every changed customer gets its version raised (so a
form opened before the import refuses to overwrite it), one *updated* event
listing each change, and, when its status changed, a status history entry.
Tags and groups named by the file replace the customer's; contacts are
changed in place or added, never removed.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict

from django.db import connection

from patron.customers.models import Contact, Customer, CustomerTag, GroupMembership
from patron.imports.applying import CustomerRowsWriter, _adapt, copy_text


def _db(value):
    return _adapt(value)


class CustomerRowsUpdater:
    """Applies `UpdatePlan`s, sharing the create writer's tables, clock and actor."""

    def __init__(self, writer: CustomerRowsWriter):
        self.writer = writer
        self.updated = 0
        self.vendor = connection.vendor
        self._temp_tables: set[str] = set()

    def write(self, rows) -> int:
        plans = [r.update for r in rows if r.update is not None and not r.update.unchanged]
        if not plans:
            return 0
        w = self.writer
        by_fields = defaultdict(list)
        for plan in plans:
            fields = dict(plan.fields)
            if plan.status_to is not None:
                fields["status_id"] = plan.status_to
                fields.setdefault("status_since", w.today)
            for name, value in list(fields.items()):
                if isinstance(value, tuple):  # a referrer written earlier in this file
                    fields[name] = w.numbers[value[1]]
            if fields.get("archived") is True:
                fields["archived_at"] = w.now
            elif fields.get("archived") is False:
                fields["archived_at"] = None
            if "custom_fields" in fields:
                fields["custom_fields"] = json.dumps(fields["custom_fields"])
            by_fields[tuple(sorted(fields))].append((plan.customer_id, fields))
        for names, items in by_fields.items():
            if names:  # some rows change only contacts, tags or groups
                self._update_customers(names, items)
        self._history(plans)
        self._tags(plans)
        self._groups(plans)
        self._contacts(plans)
        self._events(plans)
        w.customer_ids.extend(p.customer_id for p in plans)
        self.updated += len(plans)
        return len(plans)

    # --- customers ----------------------------------------------------------------

    def _update_customers(self, names: tuple, items: list) -> None:
        table = connection.ops.quote_name(Customer._meta.db_table)
        now = _db(self.writer.now)
        q = connection.ops.quote_name
        columns = [Customer._meta.get_field(n).column for n in names]
        if self.vendor == "postgresql":
            temp = self._temp_table(names, columns)
            rows = [[pk, *[fields[n] for n in names]] for pk, fields in items]
            with connection.cursor() as cursor:
                cursor.execute(f"TRUNCATE {temp}")
                statement = f"COPY {temp} (id, {', '.join(q(c) for c in columns)}) FROM STDIN"
                with connection.wrap_database_errors, cursor.cursor.copy(statement) as copy:
                    copy.write(copy_text(rows))
                sets = ", ".join(f"{q(c)} = t.{q(c)}" for c in columns)
                cursor.execute(
                    f"UPDATE {table} AS c SET {sets}, version = c.version + 1, modified = %s "
                    f"FROM {temp} AS t WHERE c.id = t.id",
                    [now],
                )
            return
        sets = ", ".join(f"{q(c)} = %s" for c in columns)
        params = [[*[_db(fields[n]) for n in names], now, pk] for pk, fields in items]
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {table} SET {sets}, version = version + 1, modified = %s WHERE id = %s",
                params,
            )

    def _temp_table(self, names: tuple, columns: list[str]) -> str:
        q = connection.ops.quote_name
        digest = hashlib.sha1(",".join(names).encode()).hexdigest()[:12]
        temp = f"patron_import_update_{digest}"
        if temp not in self._temp_tables:
            types = [Customer._meta.get_field(n).db_type(connection) for n in names]
            # serial types are for the id of a new table; plain integers are wanted here.
            definition = ", ".join(
                f"{q(c)} {t.replace('serial', 'integer')}"
                for c, t in zip(columns, types, strict=True)
            )
            with connection.cursor() as cursor:
                cursor.execute(
                    f"CREATE TEMPORARY TABLE IF NOT EXISTS {temp} (id bigint, {definition}) "
                    "ON COMMIT DROP"
                )
            self._temp_tables.add(temp)
        return temp

    # --- related rows -------------------------------------------------------------

    def _history(self, plans) -> None:
        w = self.writer
        rows = [
            (p.customer_id, p.status_from, p.status_to) for p in plans if p.status_to is not None
        ]
        if not rows:
            return
        w.history.write(
            w.history.template_rows(
                ("customer_id", "from_status_id", "to_status_id"),
                rows,
                reason="Status changed (import)",
                effective_date=w.today_db,
                state="applied",
                changed_by_id=w.user_id,
                changed_by_label=w.actor.label[:200],
                applied_at=w.now_db,
            )
        )

    def _delete_pairs(self, model, column: str, pairs: list[tuple[int, int]]) -> None:
        if not pairs:
            return
        table = connection.ops.quote_name(model._meta.db_table)
        with connection.cursor() as cursor:
            if self.vendor == "postgresql":
                cursor.execute(
                    f"DELETE FROM {table} WHERE (customer_id, {column}) IN "
                    "(SELECT * FROM unnest(%s::bigint[], %s::bigint[]))",
                    [[p[0] for p in pairs], [p[1] for p in pairs]],
                )
            else:
                cursor.executemany(
                    f"DELETE FROM {table} WHERE customer_id = %s AND {column} = %s", pairs
                )

    def _tags(self, plans) -> None:
        w = self.writer
        self._delete_pairs(
            CustomerTag, "tag_id", [(p.customer_id, t) for p in plans for t in p.tags_remove]
        )
        added = [(p.customer_id, t) for p in plans for t in p.tags_add]
        if added:
            w.tags.write(w.tags.template_rows(("customer_id", "tag_id"), added))

    def _groups(self, plans) -> None:
        w = self.writer
        self._delete_pairs(
            GroupMembership,
            "group_id",
            [(p.customer_id, g) for p in plans for g in p.groups_remove],
        )
        added = [(p.customer_id, *w._group_cell(g)) for p in plans for g in p.groups_add]
        if added:
            w.groups_used |= {g.id for p in plans for g in p.groups_add}
            w.memberships.write(
                w.memberships.template_rows(
                    ("customer_id", "group_id", "group_set_id", "exclusive"), added
                )
            )

    def _contacts(self, plans) -> None:
        w = self.writer
        q = connection.ops.quote_name
        table = q(Contact._meta.db_table)
        now = _db(w.now)
        by_fields = defaultdict(list)
        for plan in plans:
            for contact_id, diff in plan.contacts_update:
                by_fields[tuple(sorted(diff))].append((contact_id, diff))
        with connection.cursor() as cursor:
            for names, items in by_fields.items():
                sets = ", ".join(f"{q(Contact._meta.get_field(n).column)} = %s" for n in names)
                cursor.executemany(
                    f"UPDATE {table} SET {sets}, version = version + 1, modified = %s "
                    "WHERE id = %s",
                    [[*[_db(diff[n]) for n in names], now, pk] for pk, diff in items],
                )
        created = [(p.customer_id, c) for p in plans for c in p.contacts_create]
        if created:
            names = tuple(created[0][1])
            rows = [(pk, *[w.cell(c[n]) for n in names]) for pk, c in created]
            w.contacts.write(w.contacts.template_rows(("customer_id", *names), rows))

    def _events(self, plans) -> None:
        w = self.writer
        rows = [
            (
                str(p.customer_id),
                w.cell(p.repr[:200]),
                p.customer_id,
                w.cell(json.dumps(p.changes)),
            )
            for p in plans
        ]
        w.events.write(
            w.events.template_rows(
                ("object_id", "object_repr", "customer_id", "changes"),
                rows,
                created=w.now_db,
                actor_kind=w.actor.kind,
                actor_user_id=w.user_id,
                actor_token_id=w.token_id,
                actor_label=w.actor.label[:200],
                action="updated",
                object_type_id=w.content_type,
                message=w.message,
                reason=w.reason,
            )
        )
