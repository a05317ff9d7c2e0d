"""Restricted users know they are restricted, see only what their role opens,
and their group restriction is edited with chips that never drop a group."""

import re

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from patron.accounts.models import Role
from patron.events.models import Event
from tests.factories import GroupFactory, UserFactory

pytestmark = pytest.mark.django_db


def sidebar(client, user):
    client.force_login(user)
    html = client.get(reverse("jobs:list")).content.decode()
    return html[html.index('<nav id="patron-sidebar"') : html.index("</nav>")]


@pytest.fixture
def regions():
    return GroupFactory(name="South"), GroupFactory(name="North")


def test_restricted_user_sees_whose_customers(client, staff, regions):
    staff.restricted_groups.set(regions)
    client.force_login(staff)
    html = client.get(reverse("customers:list")).content.decode()
    assert 'data-testid="restricted-line"' in html
    assert "You see customers in North, South" in html


def test_unrestricted_user_has_no_line(client, staff):
    client.force_login(staff)
    html = client.get(reverse("customers:list")).content.decode()
    assert "restricted-line" not in html


@pytest.mark.parametrize(
    ("role_user", "shown", "hidden"),
    [
        ("readonly", ["Customers", "Tickets", "Jobs"], ["Import customers", "Phone list"]),
        ("staff", ["Customers", "Import customers", "My work"], []),
        ("owner", ["Customers", "Users", "Roles", "Statuses"], []),
    ],
)
def test_sidebar_shows_what_the_role_can_open(client, request, role_user, shown, hidden):
    nav = sidebar(client, request.getfixturevalue(role_user))
    for label in shown:
        assert f">{label}" in nav, label
    for label in hidden:
        assert f">{label}" not in nav, label


def test_a_narrow_role_sees_a_narrow_menu(client):
    """Every entry checks its page's permission, Customers and My work too."""
    role = Role.objects.create(name="Jobs only")
    user = UserFactory(role=role)
    nav = sidebar(client, user)
    assert ">Jobs<" in nav and ">API tokens<" in nav
    for label in ("Customers", "My work", "Tickets", "Segments", "Statuses", "Users"):
        assert f">{label}<" not in nav, label
    # And with the customer permission, Customers appears.
    role.permissions.add(Permission.objects.get(codename="view_customer"))
    user = type(user).objects.get(pk=user.pk)
    assert ">Customers<" in sidebar(client, user)


def form_post(user, **changes):
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "role": user.role_id,
        "is_active": "on",
        "restricted_groups": [g.pk for g in user.restricted_groups.all()],
        "version": user.version,
    }
    data.update(changes)
    return data


def test_user_form_uses_chips_not_a_multi_select(client, owner, staff, regions):
    staff.restricted_groups.set(regions)
    client.force_login(owner)
    html = client.get(reverse("accounts:user_edit", args=[staff.pk])).content.decode()
    assert 'data-testid="group-chips"' in html
    assert "Ctrl-click" not in html
    assert '<select name="restricted_groups"' not in html
    assert "Add group…" in html
    for group in regions:
        assert f'type="checkbox" name="restricted_groups" value="{group.pk}"' in html
    checked = re.findall(r'<input type="checkbox" name="restricted_groups"[^>]*checked', html)
    assert len(checked) == 2


def test_editing_the_name_keeps_the_groups(client, owner, staff, regions):
    staff.restricted_groups.set(regions)
    client.force_login(owner)
    response = client.post(
        reverse("accounts:user_edit", args=[staff.pk]), form_post(staff, first_name="Samira")
    )
    assert response.status_code == 302
    staff.refresh_from_db()
    assert staff.first_name == "Samira"
    assert set(staff.restricted_groups.all()) == set(regions)


def test_removing_one_chip_removes_only_that_group(client, owner, staff, regions):
    """Each chip is its own checkbox: leaving one out removes that group and
    keeps the other, and the event log says which."""
    south, north = regions
    staff.restricted_groups.set(regions)
    client.force_login(owner)
    data = form_post(staff, restricted_groups=[north.pk])
    assert client.post(reverse("accounts:user_edit", args=[staff.pk]), data).status_code == 302
    assert list(staff.restricted_groups.all()) == [north]
    event = Event.objects.filter(object_id=str(staff.pk)).latest("pk")
    assert event.changes == {"restricted_groups": [["North", "South"], ["North"]]}
