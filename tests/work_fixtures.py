"""Fixtures shared by the notes, tasks and tickets tests.

`work_roles` grants the built-in roles the permissions on notes, tasks and
tickets that `patron/accounts/roles.py` gives them at migrate time:
Administrators everything, Staff add/change/view (no delete), Read-only view.
"""

import pytest
from django.contrib.auth.models import Permission

from patron.accounts.models import Role
from patron.core.actor import Actor
from patron.departments.models import Department
from tests.factories import CustomerFactory, UserFactory

__all__ = [
    "bella",
    "bella_actor",
    "billing",
    "customer",
    "no_departments_user",
    "support",
    "work_roles",
]

WORK_APPS = ("notes", "tasks", "tickets")


@pytest.fixture
def work_roles(db):
    perms = Permission.objects.filter(content_type__app_label__in=WORK_APPS)
    Role.objects.get(name=Role.ADMINISTRATOR).permissions.add(*perms)
    Role.objects.get(name=Role.STAFF).permissions.add(
        *perms.exclude(codename__startswith="delete_")
    )
    Role.objects.get(name=Role.READ_ONLY).permissions.add(
        *perms.filter(codename__startswith="view_")
    )


@pytest.fixture
def billing(db, work_roles):
    return Department.objects.create(name="Billing")


@pytest.fixture
def support(db, work_roles):
    return Department.objects.create(name="Technical support")


@pytest.fixture
def bella(billing):
    """A Staff user who is a member of Billing."""
    user = UserFactory(username="bella")
    billing.members.add(user)
    return user


@pytest.fixture
def bella_actor(bella):
    return Actor(user=bella)


@pytest.fixture
def customer(db):
    return CustomerFactory(name="Ann Example", account_number="A000001")


@pytest.fixture
def no_departments_user(work_roles):
    """A user whose role lets them work on customers but not see any department."""
    role = Role.objects.create(name="Agent")
    role.permissions.set(
        Permission.objects.filter(
            content_type__app_label__in=[*WORK_APPS, "customers"],
        ).exclude(codename__startswith="delete_")
    )
    return UserFactory(username="agent", role=role)
