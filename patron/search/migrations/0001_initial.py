"""The customer search index: pg_trgm table and triggers, or an FTS5 table and triggers.

Vendor-conditional SQL, as it was then (patron/search/migrations/_sql_0001.py;
0002 replaces it with the current patron/search/sql.py); existing customers are
indexed once at the end. Other databases get no index (search still works
through the same subquery shape only on PostgreSQL and SQLite).
"""

from django.db import migrations


def create(apps, schema_editor):
    from patron.search.migrations import _sql_0001 as sql

    vendor = schema_editor.connection.vendor
    for kind in ("create", "triggers", "rebuild"):
        for statement in sql.statements(vendor, kind):
            schema_editor.execute(statement, params=None)


def drop(apps, schema_editor):
    from patron.search.migrations import _sql_0001 as sql

    for statement in sql.statements(schema_editor.connection.vendor, "drop"):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("customers", "0003_custom_fields")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
