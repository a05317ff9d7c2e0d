"""The rows a freshly installed Patron holds, put back on demand.

A new installation gets the default statuses, group set and payment methods from
its data migrations and the built-in roles after every migrate. `ensure_defaults()`
creates whichever of them are missing from the same values
(`patron/statuses/defaults.py`, `patron/groups/defaults.py`,
`patron/accounts/roles.py`), for a database emptied since: tests that flush
it, the browser tests and the benchmark's scratch database. The demo loader
calls it too, so the demo always starts from a complete installation.
"""

from __future__ import annotations

from django.db import transaction

from patron.accounts.roles import ensure_default_roles
from patron.groups.defaults import DEFAULT_GROUP_SET
from patron.groups.models import GroupSet
from patron.payments.defaults import ensure_default_payment_methods
from patron.statuses.defaults import DEFAULT_NEXT_STATUSES, DEFAULT_STATUSES
from patron.statuses.models import Status


def ensure_default_statuses() -> None:
    """The default statuses, unless the installation has any status at all."""
    if Status.objects.exists():
        return
    for values in DEFAULT_STATUSES:
        Status.objects.create(**values)
    for name, next_name, days in DEFAULT_NEXT_STATUSES:
        status = Status.objects.get(name=name)
        status.next_status = Status.objects.get(name=next_name)
        status.next_status_days = days
        status.save()


def ensure_default_group_set() -> None:
    """The default group set, unless the installation has any group set."""
    if not GroupSet.objects.exists():
        GroupSet.objects.create(**DEFAULT_GROUP_SET)


@transaction.atomic
def ensure_defaults() -> None:
    """Create the default statuses, group set, payment methods and roles if missing."""
    ensure_default_statuses()
    ensure_default_group_set()
    ensure_default_payment_methods()
    ensure_default_roles()
