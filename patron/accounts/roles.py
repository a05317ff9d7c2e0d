"""The four built-in roles and the permissions each starts with.

Owners can edit every role's permissions afterwards; `ensure_default_roles`
only creates roles that are missing, it never overwrites an edited one.
"""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Permission
from django.db.models import Q

from patron.accounts.models import Role

# Configuration lists that only Owners and Administrators manage (ACC-2).
LIST_APPS = ("tags", "groups", "statuses", "classes", "departments", "customfields", "banners")
# Money that only Owners and Administrators manage: the catalogue, ledger adjustments,
# billing runs, usage charges, credit notes, payments (recording, refunds, reversals) and
# cashback runs.
MONEY_APPS = ("catalogue", "ledger", "billing", "payments", "cashback")
CUSTOMER_MODELS = ("customer", "contact", "customertag", "groupmembership", "statuschange")
# Work on customers that Staff do every day: notes, tasks, tickets, calls, segments, jobs.
WORK_APPS = ("notes", "tasks", "tickets", "calls", "segments", "jobs", "subscriptions")


def _perms(q: Q):
    return Permission.objects.filter(q)


def default_permissions() -> dict[str, object]:
    patron_apps = Q(
        content_type__app_label__in=[
            *LIST_APPS,
            *MONEY_APPS,
            *WORK_APPS,
            "customers",
            "events",
            "accounts",
        ]
    )
    view_all = (
        Q(codename__startswith="view_")
        & patron_apps
        & ~Q(content_type__model__in=["loginfailure", "apitoken"])
        & ~Q(codename="view_job")  # own jobs need no permission; this one shows everyone's
    )
    customer_work = (
        Q(content_type__app_label="customers") & Q(content_type__model__in=CUSTOMER_MODELS)
    ) | (
        Q(content_type__app_label__in=WORK_APPS)
        # Seeing and cancelling everyone's jobs, and managing shared segments,
        # stay with Owners and Administrators.
        & ~Q(codename__in=["view_job", "change_job", "delete_job", "manage_shared_segment"])
    )
    user_admin = Q(content_type__app_label="accounts") & ~Q(codename__startswith="view_")
    return {
        Role.ADMINISTRATOR: _perms(
            view_all
            | customer_work
            | Q(content_type__app_label__in=[*LIST_APPS, *MONEY_APPS, *WORK_APPS])
        ).exclude(user_admin),
        Role.STAFF: _perms(view_all | (customer_work & ~Q(codename__startswith="delete_customer"))),
        Role.READ_ONLY: _perms(view_all),
    }


DESCRIPTIONS = {
    Role.OWNER: "Everything, including users, roles and API tokens of others.",
    Role.ADMINISTRATOR: "Customers and every configuration list (tags, groups, statuses...).",
    Role.STAFF: "Works on customers; assigns existing tags, groups and statuses.",
    Role.READ_ONLY: "Sees customers and lists; changes nothing.",
}


def ensure_default_roles(**kwargs) -> None:
    """Create any missing built-in role (run after every migrate)."""
    for app_config in global_apps.get_app_configs():
        create_permissions(app_config, verbosity=0)
    if not Role.objects.filter(is_owner=True).exists():
        Role.objects.create(name=Role.OWNER, description=DESCRIPTIONS[Role.OWNER], is_owner=True)
    defaults = None
    for name in (Role.ADMINISTRATOR, Role.STAFF, Role.READ_ONLY):
        if Role.objects.filter(name__iexact=name).exists():
            continue
        defaults = defaults or default_permissions()
        role = Role.objects.create(name=name, description=DESCRIPTIONS[name])
        role.permissions.set(defaults[name])
