"""Give the built-in roles of an existing installation the money permissions.

A new installation gets them from `accounts.roles` when its roles are
created after the first migrate; an installation whose roles already exist
gets the same here, once: Administrators everything in the catalogue, the
ledger (including manual adjustments) and customer services; Staff see the
catalogue and the ledger and add and change customer services; Read-only
see them. Roles an Owner renamed or made are left as they are.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

APPS = ("catalogue", "ledger", "subscriptions")


def grant(apps, schema_editor):
    Role = apps.get_model("accounts", "Role")
    Permission = apps.get_model("auth", "Permission")
    if not Role.objects.exists():
        return  # a new installation: its roles are created with these permissions
    for label in APPS:
        config = apps.get_app_config(label)
        config.models_module = True
        create_permissions(config, apps=apps, verbosity=0)
    money = Permission.objects.filter(content_type__app_label__in=APPS)
    views = money.filter(codename__startswith="view_")
    staff_work = (
        money.filter(codename__in=["add_customerservice", "change_customerservice"]) | views
    )
    grants = {"administrator": money, "staff": staff_work, "read-only": views}
    for role in Role.objects.filter(is_owner=False):
        perms = grants.get(role.name.lower())
        if perms is not None:
            role.permissions.add(*perms)


class Migration(migrations.Migration):
    dependencies = [
        ("subscriptions", "0001_initial"),
        ("catalogue", "0001_initial"),
        ("ledger", "0001_initial"),
        ("accounts", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
