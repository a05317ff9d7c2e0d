from django.db import migrations

from patron.payments.defaults import ensure_default_payment_methods


def create_methods(apps, schema_editor):
    ensure_default_payment_methods(apps.get_model("payments", "PaymentMethod"))


class Migration(migrations.Migration):
    dependencies = [("payments", "0001_initial")]

    operations = [migrations.RunPython(create_methods, migrations.RunPython.noop)]
