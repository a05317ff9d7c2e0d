"""Text custom field values in the search index.

The values of a customer's text custom fields are indexed with the rest of
the customer's text (patron/search/sql.py); the customer update trigger now
watches `custom_fields` too. The triggers are recreated and every customer
re-indexed; the reverse goes back to the version frozen in _sql_0002.py.
"""

from django.db import migrations


def _run(schema_editor, sql, kinds):
    for kind in kinds:
        for statement in sql.statements(schema_editor.connection.vendor, kind):
            schema_editor.execute(statement, params=None)


def forwards(apps, schema_editor):
    from patron.search import sql
    from patron.search.migrations import _sql_0002

    _run(schema_editor, _sql_0002, ["drop_triggers"])
    _run(schema_editor, sql, ["create", "triggers", "rebuild"])


def backwards(apps, schema_editor):
    from patron.search import sql
    from patron.search.migrations import _sql_0002

    _run(schema_editor, sql, ["drop_triggers"])
    _run(schema_editor, _sql_0002, ["create", "triggers", "rebuild"])


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0002_folded_text"),
        ("customfields", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
