"""Search without regard to accents; company name, external reference and fax indexed.

The index text is stored folded (lower case, accents removed) and the
searched text is folded the same way (patron/search/sql.py, frozen as it was then in
migrations/_sql_0002.py): PostgreSQL's
`unaccent` through `search_fold()`, SQLite through `patron_fold()`. The
triggers are recreated for the new columns and every customer re-indexed.
"""

from django.db import migrations


def _run(schema_editor, sql, kinds):
    for kind in kinds:
        for statement in sql.statements(schema_editor.connection.vendor, kind):
            schema_editor.execute(statement, params=None)


def forwards(apps, schema_editor):
    from patron.search.migrations import _sql_0001
    from patron.search.migrations import _sql_0002 as sql

    _run(schema_editor, _sql_0001, ["drop_triggers"])
    _run(schema_editor, sql, ["create", "triggers", "rebuild"])


def backwards(apps, schema_editor):
    from patron.search.migrations import _sql_0001
    from patron.search.migrations import _sql_0002 as sql

    _run(schema_editor, sql, ["drop_triggers"])
    _run(schema_editor, _sql_0001, ["create", "triggers", "rebuild"])


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0001_initial"),
        ("customers", "0008_country_aware_contacts"),
    ]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
