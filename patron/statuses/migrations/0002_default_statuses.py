from django.db import migrations

DEFAULTS = [
    dict(
        name="Prospect",
        short_name="PROS",
        availability="standard",
        display_class="info",
        position=10,
        crm_only=True,
        billable=False,
        portal_login=False,
        send_correspondence=True,
        can_have_calls=False,
        can_have_fixed_charges=False,
        process_automatic_payments=False,
    ),
    dict(
        name="Active",
        short_name="ACT",
        availability="headline",
        display_class="success",
        position=20,
    ),
    dict(
        name="Suspended",
        short_name="SUSP",
        availability="headline",
        display_class="warning",
        position=30,
        is_suspended=True,
        can_have_calls=False,
        process_automatic_payments=False,
        require_reason=True,
    ),
    dict(
        name="Ceased",
        short_name="CEAS",
        availability="standard",
        display_class="danger",
        position=40,
        is_active=False,
        portal_login=False,
        can_have_calls=False,
        can_have_fixed_charges=False,
        final_invoice=True,
        require_reason=True,
        require_date=True,
    ),
    dict(
        name="Ex-Customer",
        short_name="EX",
        availability="historical",
        display_class="secondary",
        position=50,
        is_active=False,
        billable=False,
        send_correspondence=False,
        portal_login=False,
        can_have_calls=False,
        can_have_fixed_charges=False,
        process_automatic_payments=False,
    ),
]


def create_defaults(apps, schema_editor):
    Status = apps.get_model("statuses", "Status")
    if Status.objects.exists():
        return
    for values in DEFAULTS:
        Status.objects.create(**values)
    suspended = Status.objects.get(name="Suspended")
    suspended.next_status = Status.objects.get(name="Ceased")
    suspended.next_status_days = 30
    suspended.save()


class Migration(migrations.Migration):
    dependencies = [("statuses", "0001_initial")]
    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
