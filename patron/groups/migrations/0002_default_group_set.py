from django.db import migrations

from patron.groups.defaults import DEFAULT_GROUP_SET


def create_default_set(apps, schema_editor):
    GroupSet = apps.get_model("groups", "GroupSet")
    if not GroupSet.objects.exists():
        GroupSet.objects.create(**DEFAULT_GROUP_SET)


class Migration(migrations.Migration):
    dependencies = [("groups", "0001_initial")]
    operations = [migrations.RunPython(create_default_set, migrations.RunPython.noop)]
