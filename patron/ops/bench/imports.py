"""Bench rows for the import modes: *create or update* and *update*, each beside SQL.

Both run after "import CSV", whose customers (account numbers I00000001…) they
update. "import create or update" imports a file of as many rows, half of them
those customers with a new city and half new ones; "import update" changes the
name and city of up to 100,000 of them, and the SQL side is the hand-written
upsert of the same rows in the same run: the file's rows into a temporary
table, one `UPDATE … FROM` (PostgreSQL) or an `executemany` of updates by
account number (SQLite).
"""

from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path

from django.db import connection, transaction

from patron.core.actor import Actor
from patron.customers.models import Customer
from patron.imports.checking import ImportOptions
from patron.imports.services import customers_import_file
from patron.ops.bench.data import _unnamed_columns

UPDATE_ROWS = 100_000


def _write(path: Path, rows) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["account_number", "name", "city", "postcode"])
        writer.writerows(rows)


def import_create_or_update(bench, Result, once, rows_wanted: int) -> None:
    half = rows_wanted // 2
    path = Path(tempfile.gettempdir()) / f"patron-bench-upsert-{os.getpid()}.csv"
    rows = [(f"I{i:08d}", f"Imported Customer {i}", "York", "YO1 7HH") for i in range(1, half + 1)]
    rows += [
        (f"U{i:08d}", f"Upserted Customer {i}", "Leeds", f"LS{i % 28 + 1} 1AB")
        for i in range(1, rows_wanted - half + 1)
    ]
    _write(path, rows)
    options = ImportOptions(mode="create_or_update")
    try:
        patron_ms = once(
            lambda: customers_import_file(actor=Actor(user=bench.owner), path=path, options=options)
        )
    finally:
        path.unlink(missing_ok=True)
    sql_rows = [(f"I{i:08d}", f"By SQL {i}", "Ripon", "HG4 1AA") for i in range(1, half + 1)]
    sql_rows += [
        (f"S{i:08d}", f"Upserted by SQL {i}", "Leeds", f"LS{i % 28 + 1} 1AB")
        for i in range(1, rows_wanted - half + 1)
    ]
    sql_ms = once(lambda: _sql_upsert(sql_rows, bench.active.pk))
    bench.add(
        Result(
            f"import create or update ({rows_wanted:,} rows: {half:,} updated, "
            f"{rows_wanted - half:,} created)",
            patron_ms,
            sql_ms,
            "patron.imports in create-or-update mode (check and apply); SQL side is a "
            "hand-written UPDATE of the existing rows and INSERT of the new ones (no "
            "events, contacts or search index); target on PostgreSQL: 1,000,000 rows "
            "under 120 s",
        )
    )


def _sql_upsert(rows, status_id: int) -> None:
    """The same file by hand: update the accounts that exist, insert the rest."""
    named = (
        "created, modified, version, account_number, name, kind, status_id, "
        "service_city, service_postcode, service_country, status_since"
    )
    columns, values = _unnamed_columns(Customer, named)
    table = connection.ops.quote_name("customers_customer")
    now = "now()" if connection.vendor == "postgresql" else "datetime('now')"
    today = "current_date" if connection.vendor == "postgresql" else "date('now')"
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # What a DBA would write: the file into a temporary table, then one UPDATE … FROM
            # and one INSERT … SELECT of the rows that matched no account.
            cursor.execute(
                "CREATE TEMPORARY TABLE bench_upsert (account_number text, name text, "
                "service_city text, service_postcode text) ON COMMIT DROP"
            )
            text = "".join("\t".join(row) + "\n" for row in rows)
            with cursor.cursor.copy("COPY bench_upsert FROM STDIN") as copy:
                copy.write(text)
            cursor.execute(
                f"UPDATE {table} AS c SET name = t.name, service_city = t.service_city, "
                "service_postcode = t.service_postcode, version = c.version + 1, "
                "modified = now() FROM bench_upsert AS t WHERE c.account_number = t.account_number"
            )
            cursor.execute(
                f"INSERT INTO {table} ({named}{columns}) SELECT now(), now(), 1, "
                f"t.account_number, t.name, 'person', %s, t.service_city, t.service_postcode, "
                f"'GB', {today}{values} FROM bench_upsert AS t WHERE NOT EXISTS "
                f"(SELECT 1 FROM {table} AS c WHERE c.account_number = t.account_number)",
                [status_id],
            )
            return
        existing: set[str] = set()
        numbers = [row[0] for row in rows]
        for start in range(0, len(numbers), 500):
            chunk = numbers[start : start + 500]
            cursor.execute(
                f"SELECT account_number FROM {table} WHERE account_number IN ("
                + ", ".join(["%s"] * len(chunk))
                + ")",
                chunk,
            )
            existing.update(number for (number,) in cursor.fetchall())
        cursor.executemany(
            f"UPDATE {table} SET name = %s, service_city = %s, service_postcode = %s, "
            f"version = version + 1, modified = {now} WHERE account_number = %s",
            [(r[1], r[2], r[3], r[0]) for r in rows if r[0] in existing],
        )
        cursor.executemany(
            f"INSERT INTO {table} ({named}{columns}) VALUES ({now}, {now}, 1, %s, %s, "
            f"'person', %s, %s, %s, 'GB', {today}{values})",
            [(r[0], r[1], status_id, r[2], r[3]) for r in rows if r[0] not in existing],
        )


def _sql_update(rows) -> None:
    table = connection.ops.quote_name("customers_customer")
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE TEMPORARY TABLE bench_upsert (account_number text, name text, "
                "service_city text, service_postcode text) ON COMMIT DROP"
            )
            text = "".join("\t".join(row) + "\n" for row in rows)
            with cursor.cursor.copy("COPY bench_upsert FROM STDIN") as copy:
                copy.write(text)
            cursor.execute(
                f"UPDATE {table} AS c SET name = t.name, service_city = t.service_city, "
                "service_postcode = t.service_postcode, version = c.version + 1, "
                "modified = now() FROM bench_upsert AS t WHERE c.account_number = t.account_number"
            )
        else:
            cursor.executemany(
                f"UPDATE {table} SET name = %s, service_city = %s, service_postcode = %s, "
                "version = version + 1, modified = datetime('now') WHERE account_number = %s",
                [(r[1], r[2], r[3], r[0]) for r in rows],
            )


def import_update(bench, Result, once, rows_wanted: int) -> None:
    count = min(UPDATE_ROWS, rows_wanted // 2 or rows_wanted)
    path = Path(tempfile.gettempdir()) / f"patron-bench-update-{os.getpid()}.csv"
    _write(
        path,
        [(f"I{i:08d}", f"Updated Customer {i}", "Hull", "HU1 1AA") for i in range(1, count + 1)],
    )
    options = ImportOptions(mode="update")
    try:
        patron_ms = once(
            lambda: customers_import_file(actor=Actor(user=bench.owner), path=path, options=options)
        )
    finally:
        path.unlink(missing_ok=True)
    sql_rows = [(f"I{i:08d}", f"By SQL {i}", "Selby", "YO8 4AA") for i in range(1, count + 1)]
    sql_ms = once(lambda: _sql_update(sql_rows))
    bench.add(
        Result(
            f"import update ({count:,} customers: name, city, postcode)",
            patron_ms,
            sql_ms,
            "patron.imports in update mode (check, compare, apply, one event each); SQL "
            "side is a hand-written UPDATE … FROM of the same rows; target within 3×",
        )
    )
