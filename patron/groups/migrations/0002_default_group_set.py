from django.db import migrations


def create_default_set(apps, schema_editor):
    GroupSet = apps.get_model("groups", "GroupSet")
    if not GroupSet.objects.exists():
        GroupSet.objects.create(
            name="Customer group",
            description="The main grouping of customers; each customer is in at most one.",
            single_choice=True,
            position=10,
        )


class Migration(migrations.Migration):
    dependencies = [("groups", "0001_initial")]
    operations = [migrations.RunPython(create_default_set, migrations.RunPython.noop)]
