from django.db import migrations

from patron.statuses.defaults import DEFAULT_NEXT_STATUSES, DEFAULT_STATUSES


def create_defaults(apps, schema_editor):
    Status = apps.get_model("statuses", "Status")
    if Status.objects.exists():
        return
    for values in DEFAULT_STATUSES:
        Status.objects.create(**values)
    for name, next_name, days in DEFAULT_NEXT_STATUSES:
        status = Status.objects.get(name=name)
        status.next_status = Status.objects.get(name=next_name)
        status.next_status_days = days
        status.save()


class Migration(migrations.Migration):
    dependencies = [("statuses", "0001_initial")]
    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
