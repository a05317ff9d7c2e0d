"""The set-based statements behind bulk actions, on SQLite and PostgreSQL alike.

A bulk job first records what it will change with one INSERT … SELECT into
`JobChange`, then makes every customer's value equal to its row's `after`
with a handful of statements that read those rows. Undo writes the rows
swapped (before ↔ after) for a new job and runs the very same statements.
"""

from __future__ import annotations

import datetime

from django.contrib.contenttypes.models import ContentType
from django.db import connection, models
from django.db.models import F
from django.utils import timezone

from patron.catalogue.models import Service
from patron.customers.models import Customer, CustomerTag, GroupMembership, StatusChange
from patron.events.models import Event
from patron.groups.models import Group, GroupSet
from patron.jobs.models import JobChange
from patron.statuses.models import Status
from patron.subscriptions.models import CustomerService

EVENT_BATCH = 10_000
PG_TYPES = {"id": "bigint", "date": "date", "datetime": "timestamp with time zone"}


def qn(name: str) -> str:
    return connection.ops.quote_name(name)


def cast(expression: str, kind: str) -> str:
    """Text from JobChange as a column value.

    SQLite stores dates and timestamps as the very text JobChange keeps, and
    turns numeric text into integers by itself; PostgreSQL needs the cast.
    """
    if connection.vendor == "postgresql":
        return f"CAST({expression} AS {PG_TYPES[kind]})"
    if kind == "id":
        return f"CAST({expression} AS integer)"
    return expression


def as_text(column: str) -> str:
    """A column as the text JobChange keeps (NULL stays NULL)."""
    return f"CAST({column} AS TEXT)"


def datetime_text(value: datetime.datetime) -> str:
    """A timestamp as the text the database itself would give for `as_text(column)`."""
    if connection.vendor == "sqlite":
        return connection.ops.adapt_datetimefield_value(value)
    return value.isoformat()


def roomy_sorts() -> None:
    """PostgreSQL: let this job's transaction sort and group in memory.

    The event statements group each batch's tag or group names per customer;
    with the default 4 MB that spills to disk. `SET LOCAL` ends with the job's
    transaction.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem = '64MB'")


def record_changes(job, eligible, field: str, before_sql: str, after, analyse=True) -> int:
    """INSERT … SELECT one JobChange row per customer in `eligible`; the number of rows.

    `before_sql` is a SQL expression over the customer table (e.g.
    `as_text("department_id")`, or "NULL"); `after` is one value for all.
    An action that records several fields asks for `analyse` on the last only.
    """
    customers = qn(Customer._meta.db_table)
    select_sql, select_params = (
        eligible.order_by().annotate(chosen_id=F("pk")).values("chosen_id").query.sql_with_params()
    )
    sql = (
        f"INSERT INTO {qn(JobChange._meta.db_table)} (job_id, customer_id, field, before, after) "
        f"SELECT %s, c.id, %s, {before_sql}, %s FROM {customers} c "
        f"WHERE c.id IN ({select_sql}) ON CONFLICT DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [job.pk, field, after, *select_params])
        count = cursor.rowcount
        if analyse:
            analyse_changes(cursor)
        return count


def analyse_changes(cursor) -> None:
    """Let PostgreSQL's planner see the rows just written, inside this very transaction.

    Without it the planner takes the change table for nearly empty and reads
    it once per customer in the statements that follow.
    """
    if connection.vendor == "postgresql":
        cursor.execute(f"ANALYZE {qn(JobChange._meta.db_table)}")


def copy_changes_swapped(source_job, job, rows) -> int:
    """Rows of `source_job` (narrowed by the queryset `rows`) for `job`, before ↔ after."""
    select_sql, select_params = rows.order_by().values("id").query.sql_with_params()
    table = qn(JobChange._meta.db_table)
    sql = (
        f"INSERT INTO {table} (job_id, customer_id, field, before, after) "
        f"SELECT %s, customer_id, field, after, before FROM {table} "
        f"WHERE job_id = %s AND id IN ({select_sql}) ON CONFLICT DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [job.pk, source_job.pk, *select_params])
        count = cursor.rowcount
        analyse_changes(cursor)
        return count


def update_customers(job, field: str, when, sets=(), with_field: str = "") -> int:
    """One UPDATE of every customer with a `field` row of the job: `sets`, a version step
    and a new `modified`, together, so each customer row is rewritten once.

    `sets` are assignments that read the row `jc` (and `jx`, the same customer's
    `with_field` row, when given); a customer without a `jx` row keeps its value
    where the assignment says so.
    """
    customers = qn(Customer._meta.db_table)
    changes = qn(JobChange._meta.db_table)
    extra = ""
    if with_field:
        extra = (
            f"LEFT JOIN {changes} jx ON jx.job_id = jc.job_id "
            f"AND jx.customer_id = jc.customer_id AND jx.field = '{with_field}' "
        )
    assignments = [*sets, f"version = {customers}.version + 1", "modified = %s"]
    sql = (
        f"UPDATE {customers} SET {', '.join(assignments)} FROM {changes} jc {extra}"
        f"WHERE jc.job_id = %s AND jc.field = %s AND {customers}.id = jc.customer_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [connection.ops.adapt_datetimefield_value(when), job.pk, field])
        return cursor.rowcount


def column_from(column: str, kind: str, row: str = "jc") -> str:
    """`column` set to the `after` of change row `row`."""
    return f"{qn(column)} = {cast(f'{row}.after', kind)}"


def column_from_optional(column: str, kind: str, row: str = "jx") -> str:
    """`column` set to the `after` of change row `row`, or left as it is without that row."""
    customers = qn(Customer._meta.db_table)
    return (
        f"{qn(column)} = CASE WHEN {row}.id IS NULL THEN {customers}.{qn(column)} "
        f"ELSE {cast(f'{row}.after', kind)} END"
    )


def archived_from() -> list[str]:
    """Archive (after = the timestamp) or restore (after = NULL) from the row `jc`."""
    return ["archived = (jc.after IS NOT NULL)", f"archived_at = {cast('jc.after', 'datetime')}"]


def set_tag_links(job, when) -> None:
    """Add the tag links whose `after` names a tag; delete those whose `after` is NULL."""
    changes = qn(JobChange._meta.db_table)
    links = qn(CustomerTag._meta.db_table)
    now = connection.ops.adapt_datetimefield_value(when)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {links} (customer_id, tag_id, created) "
            f"SELECT jc.customer_id, {cast('jc.after', 'id')}, %s FROM {changes} jc "
            "WHERE jc.job_id = %s AND jc.field = 'tags' AND jc.after IS NOT NULL "
            "ON CONFLICT DO NOTHING",
            [now, job.pk],
        )
        cursor.execute(
            f"DELETE FROM {links} WHERE id IN (SELECT l.id FROM {changes} jc JOIN {links} l "
            f"ON l.customer_id = jc.customer_id AND l.tag_id = {cast('jc.before', 'id')} "
            "WHERE jc.job_id = %s AND jc.field = 'tags' AND jc.after IS NULL)",
            [job.pk],
        )


def set_group_links(job, when) -> None:
    """Add the memberships whose `after` names a group; delete those whose `after` is NULL.

    The membership table's own single-choice constraint stays the backstop:
    a row that would break it is skipped here and reported by the caller.
    """
    changes = qn(JobChange._meta.db_table)
    links = qn(GroupMembership._meta.db_table)
    groups = qn(Group._meta.db_table)
    sets = qn(GroupSet._meta.db_table)
    now = connection.ops.adapt_datetimefield_value(when)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {links} (customer_id, group_id, group_set_id, exclusive, created) "
            f"SELECT jc.customer_id, g.id, g.group_set_id, s.single_choice, %s FROM {changes} jc "
            f"JOIN {groups} g ON g.id = {cast('jc.after', 'id')} "
            f"JOIN {sets} s ON s.id = g.group_set_id "
            "WHERE jc.job_id = %s AND jc.field = 'groups' AND jc.after IS NOT NULL "
            "ON CONFLICT DO NOTHING",
            [now, job.pk],
        )
        cursor.execute(
            f"DELETE FROM {links} WHERE id IN (SELECT l.id FROM {changes} jc JOIN {links} l "
            f"ON l.customer_id = jc.customer_id AND l.group_id = {cast('jc.before', 'id')} "
            "WHERE jc.job_id = %s AND jc.field = 'groups' AND jc.after IS NULL)",
            [job.pk],
        )


def now() -> datetime.datetime:
    return timezone.now()


# --- the event log, written with INSERT … SELECT ----------------------------------------------


def _pg() -> bool:
    return connection.vendor == "postgresql"


def json_object(*pairs: str) -> str:
    """SQL for a JSON object from alternating key literals and JSON value expressions."""
    return f"{'jsonb_build_object' if _pg() else 'json_object'}({', '.join(pairs)})"


def json_array(*items: str) -> str:
    return f"{'jsonb_build_array' if _pg() else 'json_array'}({', '.join(items)})"


def json_bool(condition: str) -> str:
    if _pg():
        return f"to_jsonb({condition})"
    return f"json(CASE WHEN {condition} THEN 'true' ELSE 'false' END)"


def name_of(table: str, id_expression: str) -> str:
    """The `name` of the row of `table` whose id is the text `id_expression` (NULL if none)."""
    return f"(SELECT x.name FROM {qn(table)} x WHERE x.id = {cast(id_expression, 'id')})"


def _names_each(link_table: str, link_column: str, name_table: str, which: str) -> str:
    """SQLite: one customer's sorted names before or after the change of row `jc`, looked up
    for that customer alone: the current names without the one the row moved, plus that
    one when `which` ("before" or "after") holds it."""
    moved = cast("COALESCE(jc.before, jc.after)", "id")
    select = (
        f"SELECT t.name AS n FROM {qn(link_table)} l JOIN {qn(name_table)} t "
        f"ON t.id = l.{link_column} WHERE l.customer_id = c.id AND t.id <> {moved} "
        f"UNION ALL SELECT t.name AS n FROM {qn(name_table)} t "
        f"WHERE t.id = {moved} AND jc.{which} IS NOT NULL"
    )
    return f"json((SELECT json_group_array(s.n) FROM (SELECT n FROM ({select}) ORDER BY n) s))"


def link_names(
    link_table: str, link_column: str, name_table: str, field: str, *, unique_names: bool = False
):
    """The customers' names (tags or groups) before and after the change, for a batch of rows.

    Returns (join, before, after). On PostgreSQL `join` is a LEFT JOIN (with `{job}`, `{lo}`
    and `{hi}` to fill in) of one row per changed customer holding two sorted
    JSON lists, computed in one grouped pass rather than once per customer:
    `w`, the names with the one the row moved, and `wo`, the names without it.
    It is read after the job's write, so the row's own link is left out of the
    current links and added back as a row of its own. The change row `jc`
    adds the name when its `after` is set and removes it when not. On SQLite
    `join` is empty and each list is looked up per customer (`_names_each`).
    """
    if not _pg():
        # SQLite answers the per-customer lookups from its indexes faster than it sorts
        # the whole batch for a grouped pass.
        tables = (link_table, link_column, name_table)
        return "", _names_each(*tables, "before"), _names_each(*tables, "after")
    if unique_names:
        return _unique_link_names(link_table, link_column, name_table, field)
    changes = qn(JobChange._meta.db_table)
    moved = cast("COALESCE(x.before, x.after)", "id")
    rows = (
        f"SELECT x.customer_id AS cid, t.name AS n, 0 AS m FROM {changes} x "
        f"JOIN {qn(link_table)} l ON l.customer_id = x.customer_id AND l.{link_column} <> {moved} "
        f"JOIN {qn(name_table)} t ON t.id = l.{link_column} "
        f"WHERE x.job_id = {{job}} AND x.field = '{field}' AND x.id BETWEEN {{lo}} AND {{hi}} "
        f"UNION ALL SELECT x.customer_id, t.name, 1 FROM {changes} x "
        f"JOIN {qn(name_table)} t ON t.id = {moved} "
        f"WHERE x.job_id = {{job}} AND x.field = '{field}' AND x.id BETWEEN {{lo}} AND {{hi}}"
    )
    order = 'ORDER BY s.n COLLATE "C"'
    grouped = (
        f"SELECT s.cid, jsonb_agg(s.n {order}) AS w, "
        f"COALESCE(jsonb_agg(s.n {order}) FILTER (WHERE s.m = 0), '[]'::jsonb) AS wo "
        f"FROM ({rows}) s GROUP BY s.cid"
    )
    join = f"LEFT JOIN ({grouped}) ln ON ln.cid = jc.customer_id"
    with_name, without_name = (f"COALESCE(ln.{column}, '[]'::jsonb)" for column in ("w", "wo"))
    before = f"(CASE WHEN jc.after IS NOT NULL THEN {without_name} ELSE {with_name} END)"
    after = f"(CASE WHEN jc.after IS NOT NULL THEN {with_name} ELSE {without_name} END)"
    return join, before, after


def _unique_link_names(link_table: str, link_column: str, name_table: str, field: str):
    """PostgreSQL `link_names` for names that are unique (tags): one sorted list per customer.

    The batch's customers' names are gathered once, as they are after the
    write. An added name is then dropped from that list by value for the
    "before" side; a removed one is put back, in order, from the customer's
    few names alone.
    """
    changes = qn(JobChange._meta.db_table)
    order = 'ORDER BY t.name COLLATE "C"'
    grouped = (
        f"SELECT x.customer_id AS cid, jsonb_agg(t.name {order}) AS cur FROM {changes} x "
        f"JOIN {qn(link_table)} l ON l.customer_id = x.customer_id "
        f"JOIN {qn(name_table)} t ON t.id = l.{link_column} "
        f"WHERE x.job_id = {{job}} AND x.field = '{field}' AND x.id BETWEEN {{lo}} AND {{hi}} "
        "GROUP BY x.customer_id"
    )
    join = (
        f"LEFT JOIN ({grouped}) ln ON ln.cid = jc.customer_id "
        f"LEFT JOIN {qn(name_table)} mv ON mv.id = {cast('COALESCE(jc.before, jc.after)', 'id')}"
    )
    current = "COALESCE(ln.cur, '[]'::jsonb)"
    moved = "mv.name"
    put_back = (
        f'(SELECT jsonb_agg(s.n ORDER BY s.n COLLATE "C") FROM (SELECT '
        f"jsonb_array_elements_text({current}) AS n UNION ALL SELECT {moved}) s)"
    )
    before = f"(CASE WHEN jc.after IS NOT NULL THEN {current} - {moved} ELSE {put_back} END)"
    return join, before, current


def insert_events(
    job, actor, *, field: str, action: str, changes_sql: str, message, reason, when, join=""
):
    """One event per JobChange row of `field`, in batches; yields the running count.

    The statement builds each event from the change row and the customer:
    `changes_sql` is the JSON expression for the field's [before, after], and
    `join` an optional extra join it reads (see `link_names`).
    """
    rows = JobChange.objects.filter(job=job, field=field)
    bounds = rows.aggregate(lo=models.Min("id"), hi=models.Max("id"))
    if bounds["lo"] is None:
        return
    customer_type = ContentType.objects.get_for_model(Customer)
    user_id = actor.user.pk if actor.user is not None and actor.user.pk else None
    token_id = actor.token.pk if actor.token is not None else None
    created = connection.ops.adapt_datetimefield_value(when)
    label = "SUBSTR(c.name || ' (' || c.account_number || ')', 1, 200)"
    changes = json_object(f"'{field}'", changes_sql, "'job'", json_array("NULL", str(int(job.pk))))
    sql = (
        f"INSERT INTO {qn(Event._meta.db_table)} (created, actor_kind, actor_user_id, "
        "actor_token_id, actor_label, action, object_type_id, object_id, object_repr, "
        "customer_id, message, changes, reason) "
        f"SELECT %s, %s, %s, %s, %s, %s, %s, {as_text('c.id')}, {label}, c.id, %s, {changes}, %s "
        f"FROM {qn(JobChange._meta.db_table)} jc JOIN {qn(Customer._meta.db_table)} c "
        "ON c.id = jc.customer_id {join} "
        "WHERE jc.job_id = %s AND jc.field = %s AND jc.id BETWEEN %s AND %s"
    )
    done = 0
    step = EVENT_BATCH
    with connection.cursor() as cursor:
        for lo in range(bounds["lo"], bounds["hi"] + 1, step):
            hi = lo + step - 1
            batch_join = join.format(job=int(job.pk), lo=lo, hi=hi)
            cursor.execute(
                sql.replace("{join}", batch_join),
                [
                    created,
                    actor.kind,
                    user_id,
                    token_id,
                    actor.label[:200],
                    action,
                    customer_type.pk,
                    message[:300],
                    reason,
                    job.pk,
                    field,
                    lo,
                    lo + step - 1,
                ],
            )
            done += max(cursor.rowcount, 0)
            yield lo + step - 1, done


def insert_status_history(job, actor, *, reason: str, when, lo: int, hi: int) -> None:
    """The status history rows (StatusChange) of the job's status rows with ids lo…hi."""
    changes = qn(JobChange._meta.db_table)
    today = connection.ops.adapt_datefield_value(timezone.localdate())
    sql = (
        f"INSERT INTO {qn(StatusChange._meta.db_table)} (customer_id, from_status_id, "
        "to_status_id, reason, effective_date, state, changed_by_id, changed_by_label, "
        "applied_at, cancelled_by_label, note, created) "
        f"SELECT jc.customer_id, {cast('jc.before', 'id')}, {cast('jc.after', 'id')}, %s, "
        f"COALESCE({cast('sc.after', 'date')}, %s), 'applied', %s, %s, %s, '', '', %s "
        f"FROM {changes} jc LEFT JOIN {changes} sc ON sc.job_id = jc.job_id "
        "AND sc.field = 'status_since' AND sc.customer_id = jc.customer_id "
        "WHERE jc.job_id = %s AND jc.field = 'status' AND jc.id BETWEEN %s AND %s"
    )
    now = connection.ops.adapt_datetimefield_value(when)
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                reason,
                today,
                actor.user.pk if actor.user is not None and actor.user.pk else None,
                actor.label[:200],
                now,
                now,
                job.pk,
                lo,
                hi,
            ],
        )


# --- scheduled status changes ---------------------------------------------------------------

SCHEDULE_FIELD = "pending_status"


def insert_pending_status_changes(job, *, status_id: int, reason: str, effective, when) -> int:
    """One pending StatusChange per `pending_status` row of the job, as the single path
    schedules it; a customer that meanwhile got a pending change of its own is skipped
    (the one-pending-change constraint) and left unlinked for the caller to report."""
    changes = qn(JobChange._meta.db_table)
    sql = (
        f"INSERT INTO {qn(StatusChange._meta.db_table)} (customer_id, from_status_id, "
        "to_status_id, reason, effective_date, state, changed_by_id, changed_by_label, "
        "applied_at, cancelled_by_label, note, created) "
        "SELECT jc.customer_id, NULL, %s, %s, %s, 'pending', %s, %s, NULL, '', '', %s "
        f"FROM {changes} jc WHERE jc.job_id = %s AND jc.field = %s ON CONFLICT DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                status_id,
                reason,
                connection.ops.adapt_datefield_value(effective),
                job.actor_user_id,
                job.actor_label[:200],
                connection.ops.adapt_datetimefield_value(when),
                job.pk,
                SCHEDULE_FIELD,
            ],
        )
        return cursor.rowcount


def link_pending_status_changes(job, *, status_id: int, when) -> int:
    """Point each `pending_status` row of the job (`after`) at the StatusChange it created,
    so undo finds exactly those rows; how many were linked."""
    changes = qn(JobChange._meta.db_table)
    after = qn("after")
    sql = (
        f"UPDATE {changes} SET {after} = {as_text('sc.id')} "
        f"FROM {qn(StatusChange._meta.db_table)} sc "
        f"WHERE {changes}.job_id = %s AND {changes}.field = %s "
        f"AND sc.customer_id = {changes}.customer_id AND sc.state = 'pending' "
        "AND sc.to_status_id = %s AND sc.created = %s AND sc.changed_by_label = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                job.pk,
                SCHEDULE_FIELD,
                status_id,
                connection.ops.adapt_datetimefield_value(when),
                job.actor_label[:200],
            ],
        )
        return cursor.rowcount


def cancel_pending_status_changes(source_job, rows, *, label: str, note: str) -> int:
    """Cancel the still pending StatusChange rows that `source_job` created, for the
    `pending_status` rows in the queryset `rows`; `note` marks the ones this call cancelled."""
    select_sql, select_params = rows.order_by().values("id").query.sql_with_params()
    changes = qn(JobChange._meta.db_table)
    sql = (
        f"UPDATE {qn(StatusChange._meta.db_table)} SET state = 'cancelled', "
        "cancelled_by_label = %s, note = %s WHERE state = 'pending' AND id IN ("
        f"SELECT {cast('jc.after', 'id')} FROM {changes} jc WHERE jc.job_id = %s "
        f"AND jc.field = %s AND jc.after IS NOT NULL AND jc.id IN ({select_sql}))"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql, [label[:200], note[:300], source_job.pk, SCHEDULE_FIELD, *select_params]
        )
        return cursor.rowcount


def pending_status_join() -> str:
    """The StatusChange (`sc`) a `pending_status` row `jc` points at, and its new status (`st`)."""
    row = cast("COALESCE(jc.after, jc.before)", "id")
    return (
        f"JOIN {qn(StatusChange._meta.db_table)} sc ON sc.id = {row} "
        f"JOIN {qn(Status._meta.db_table)} st ON st.id = sc.to_status_id"
    )


def pending_status_changes_sql() -> str:
    """The event's [before, after] for a `pending_status` row: "Suspended on 2026-03-09"
    on the side that holds the StatusChange, NULL on the other (as the single path logs)."""
    text = f"st.name || ' on ' || {as_text('sc.effective_date')}"
    return json_array(
        f"CASE WHEN jc.before IS NULL THEN NULL ELSE {text} END",
        f"CASE WHEN jc.after IS NULL THEN NULL ELSE {text} END",
    )


# --- customer services: a status's related service status (ORG-10) ----------------------------

# One JobChange row per customer service the job changes: its status (`service:<id>`) and,
# when the job ends it without a last day, that day (`service_end:<id>`, before NULL).
SERVICE_FIELD = "service:"
SERVICE_END_FIELD = "service_end:"


def _is_service_row(row: str = "jc") -> str:
    return f"SUBSTR({row}.field, 1, {len(SERVICE_FIELD)}) = '{SERVICE_FIELD}'"


def _service_id(row: str = "jc") -> str:
    return cast(f"SUBSTR({row}.field, {len(SERVICE_FIELD) + 1})", "id")


def record_service_changes(job, services, target: str, *, ended: str, today) -> int:
    """A `service:<id>` row (before: its status, after: `target`) for every customer
    service in the queryset `services`; when `target` is `ended`, a `service_end:<id>`
    row for each without a last day (today, or its first day if that is later), as the
    single path ends it. The number of services."""
    select_sql, select_params = services.order_by().values("id").query.sql_with_params()
    table = qn(CustomerService._meta.db_table)
    changes = qn(JobChange._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {changes} (job_id, customer_id, field, before, after) "
            f"SELECT %s, cs.customer_id, %s || {as_text('cs.id')}, cs.status, %s "
            f"FROM {table} cs WHERE cs.id IN ({select_sql}) ON CONFLICT DO NOTHING",
            [job.pk, SERVICE_FIELD, target, *select_params],
        )
        count = cursor.rowcount
        if target == ended:
            day = connection.ops.adapt_datefield_value(today)
            cursor.execute(
                f"INSERT INTO {changes} (job_id, customer_id, field, before, after) "
                f"SELECT %s, cs.customer_id, %s || {as_text('cs.id')}, NULL, "
                f"CASE WHEN cs.start_date > %s THEN {as_text('cs.start_date')} ELSE %s END "
                f"FROM {changes} jc JOIN {table} cs ON cs.id = {_service_id()} "
                f"WHERE jc.job_id = %s AND {_is_service_row()} AND cs.end_date IS NULL "
                "ON CONFLICT DO NOTHING",
                [job.pk, SERVICE_END_FIELD, day, today.isoformat(), job.pk],
            )
        analyse_changes(cursor)
    return count


def update_services(job, when) -> int:
    """One UPDATE of every customer service with a `service:<id>` row of the job: its
    status (and last day, from its `service_end:<id>` row), a version step, `modified`."""
    table = qn(CustomerService._meta.db_table)
    changes = qn(JobChange._meta.db_table)
    sql = (
        f"UPDATE {table} SET status = jc.after, end_date = CASE WHEN je.id IS NULL "
        f"THEN {table}.end_date ELSE {cast('je.after', 'date')} END, "
        f"version = {table}.version + 1, modified = %s "
        f"FROM {changes} jc LEFT JOIN {changes} je ON je.job_id = jc.job_id "
        "AND je.customer_id = jc.customer_id "
        f"AND je.field = %s || SUBSTR(jc.field, {len(SERVICE_FIELD) + 1}) "
        f"WHERE jc.job_id = %s AND {_is_service_row()} AND {table}.id = {_service_id()}"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql, [connection.ops.adapt_datetimefield_value(when), SERVICE_END_FIELD, job.pk]
        )
        return cursor.rowcount


def _label_of(column: str, choices, *, lower: bool = False) -> str:
    whens = " ".join(
        f"WHEN '{value}' THEN '{(label.lower() if lower else label).replace(chr(39), chr(39) * 2)}'"
        for value, label in choices
    )
    return f"(CASE {column} {whens} ELSE {column} END)"


def insert_service_events(job, actor, *, suffix: str, reason: str, when, lo: int, hi: int) -> int:
    """One "updated" event per customer service the job changed, for the customers whose
    `status` rows have ids lo…hi, as `customer_services_apply_status` logs it: on the
    customer, the service's status before and after, the customer's new status named."""
    choices = CustomerService.Status.choices
    table = qn(CustomerService._meta.db_table)
    changes = qn(JobChange._meta.db_table)
    name = (
        f"(CASE WHEN cs.quantity <> 1 THEN s.name || ' × ' || {as_text('cs.quantity')} "
        "ELSE s.name END)"
    )
    message = (
        f"SUBSTR('Service ' || {name} || ' is now ' || {_label_of('jc.after', choices, lower=True)}"
        " || ' (status ' || COALESCE(st.name, '—') || %s, 1, 300)"
    )
    event_changes = json_object(
        "'status'",
        json_array(_label_of("jc.before", choices), _label_of("jc.after", choices)),
        "'job'",
        json_array("NULL", str(int(job.pk))),
    )
    sql = (
        f"INSERT INTO {qn(Event._meta.db_table)} (created, actor_kind, actor_user_id, "
        "actor_token_id, actor_label, action, object_type_id, object_id, object_repr, "
        "customer_id, message, changes, reason) "
        f"SELECT %s, %s, %s, %s, %s, 'updated', %s, {as_text('cs.id')}, SUBSTR({name}, 1, 200), "
        f"jc.customer_id, {message}, {event_changes}, %s "
        f"FROM {changes} js JOIN {changes} jc ON jc.job_id = js.job_id "
        f"AND jc.customer_id = js.customer_id AND {_is_service_row()} "
        f"JOIN {table} cs ON cs.id = {_service_id()} "
        f"JOIN {qn(Service._meta.db_table)} s ON s.id = cs.service_id "
        f"JOIN {qn(Customer._meta.db_table)} c ON c.id = js.customer_id "
        f"LEFT JOIN {qn(Status._meta.db_table)} st ON st.id = c.status_id "
        "WHERE js.job_id = %s AND js.field = 'status' AND js.id BETWEEN %s AND %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                connection.ops.adapt_datetimefield_value(when),
                actor.kind,
                actor.user.pk if actor.user is not None and actor.user.pk else None,
                actor.token.pk if actor.token is not None else None,
                actor.label[:200],
                ContentType.objects.get_for_model(CustomerService).pk,
                suffix,
                reason,
                job.pk,
                lo,
                hi,
            ],
        )
        return max(cursor.rowcount, 0)
