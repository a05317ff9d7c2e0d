"""Give the built-in roles of an existing installation the cashback permissions.

A new installation gets them from `accounts.roles` (cashback is one of its
MONEY_APPS) when its roles are created after the first migrate; one whose
roles already exist gets them here, once: Administrators "Can run cashback"
and "Can view cashback run", Staff and Read-only see the runs. Roles an
Owner renamed or made are left as they are.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def grant(apps, schema_editor):
    Role = apps.get_model("accounts", "Role")
    Permission = apps.get_model("auth", "Permission")
    if not Role.objects.exists():
        return  # a new installation: its roles are created with these permissions
    config = apps.get_app_config("cashback")
    config.models_module = True
    create_permissions(config, apps=apps, verbosity=0)
    cashback = Permission.objects.filter(content_type__app_label="cashback")
    views = cashback.filter(codename__startswith="view_")
    grants = {"administrator": cashback, "staff": views, "read-only": views}
    for role in Role.objects.filter(is_owner=False):
        perms = grants.get(role.name.lower())
        if perms is not None:
            role.permissions.add(*perms)


class Migration(migrations.Migration):
    dependencies = [
        ("cashback", "0001_initial"),
        ("accounts", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
