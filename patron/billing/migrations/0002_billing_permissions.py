"""Give the built-in roles of an existing installation the billing permissions.

A new installation gets them from `accounts.roles` when its roles are
created after the first migrate; one whose roles already exist gets them
here, once: Administrators every billing permission (runs, usage charges,
credit notes), Staff and Read-only see invoices and runs. Roles an Owner
renamed or made are left as they are.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def grant(apps, schema_editor):
    Role = apps.get_model("accounts", "Role")
    Permission = apps.get_model("auth", "Permission")
    if not Role.objects.exists():
        return  # a new installation: its roles are created with these permissions
    config = apps.get_app_config("billing")
    config.models_module = True
    create_permissions(config, apps=apps, verbosity=0)
    billing = Permission.objects.filter(content_type__app_label="billing")
    views = billing.filter(codename__startswith="view_")
    grants = {"administrator": billing, "staff": views, "read-only": views}
    for role in Role.objects.filter(is_owner=False):
        perms = grants.get(role.name.lower())
        if perms is not None:
            role.permissions.add(*perms)


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0001_initial"),
        ("accounts", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
