"""Departments: unique names, members chosen from active users, every
membership change in the event log, and who may change them."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from patron.core.actor import Actor
from patron.core.errors import ConflictError, PermissionDenied, ValidationError
from patron.departments.models import Department
from patron.departments.services import (
    department_create,
    department_delete,
    department_update,
)
from patron.events.models import Event
from tests.factories import DepartmentFactory, UserFactory

pytestmark = pytest.mark.django_db


def row(department: Department) -> dict:
    return {
        **Department.objects.values().get(pk=department.pk),
        "members": sorted(department.members.values_list("username", flat=True)),
    }


@pytest.fixture
def people(db):
    return {
        "amelia": UserFactory(username="amelia", first_name="Amelia", last_name="Clarke"),
        "tom": UserFactory(username="tom", first_name="Tom", last_name="Bennett"),
        "priya": UserFactory(username="priya", first_name="Priya", last_name="Shah"),
    }


@pytest.fixture
def login(client, users):
    def as_role(role):
        client.force_login(users[role])
        return client

    return as_role


# Services


def test_duplicate_name_in_another_case_is_refused(actor):
    department_create(actor=actor, data={"name": "Billing"})
    with pytest.raises(ValidationError) as exc:
        department_create(actor=actor, data={"name": "billing "})
    assert exc.value.message_dict == {"name": ["A department named “Billing” already exists."]}
    assert list(Department.objects.values_list("name", flat=True)) == ["Billing"]


def test_create_with_members_logs_the_members(actor, people):
    billing = department_create(
        actor=actor, data={"name": "Billing"}, members=[people["amelia"], people["tom"]]
    )
    assert sorted(billing.members.values_list("username", flat=True)) == ["amelia", "tom"]
    event = Event.objects.get(action="members_changed")
    assert event.changes == {"members": [[], ["Amelia Clarke", "Tom Bennett"]]}
    assert event.object_id == str(billing.pk)


def test_member_changes_are_logged_with_before_and_after(actor, people):
    billing = DepartmentFactory(name="Billing")
    billing.members.set([people["amelia"], people["tom"]])
    department_update(
        actor=actor,
        department=billing,
        data={"email": "billing@example.com"},
        members=[people["amelia"], people["priya"]],
        expected_version=1,
    )
    billing.refresh_from_db()
    assert sorted(billing.members.values_list("username", flat=True)) == ["amelia", "priya"]
    assert billing.email == "billing@example.com"
    # One version for the field change, one for the membership change.
    assert billing.version == 3
    members = Event.objects.get(action="members_changed")
    assert members.changes == {
        "members": [["Amelia Clarke", "Tom Bennett"], ["Amelia Clarke", "Priya Shah"]]
    }
    assert (members.actor_label, members.message) == (
        "olivia",
        "Changed members of department Billing",
    )
    updated = Event.objects.get(action="updated")
    assert updated.changes == {"email": ["", "billing@example.com"]}


def test_same_members_again_logs_nothing(actor, people):
    billing = DepartmentFactory(name="Billing")
    billing.members.set([people["amelia"]])
    department_update(actor=actor, department=billing, data={}, members=[people["amelia"]])
    assert not Event.objects.exists()
    billing.refresh_from_db()
    assert billing.version == 1


def test_stale_version_is_refused_and_members_untouched(actor, people):
    billing = DepartmentFactory(name="Billing")
    department_update(actor=actor, department=billing, data={"name": "Accounts"})
    with pytest.raises(ConflictError):
        department_update(
            actor=actor,
            department=billing,
            data={"name": "Billing team"},
            members=[people["tom"]],
            expected_version=1,
        )
    billing.refresh_from_db()
    assert (billing.name, list(billing.members.all())) == ("Accounts", [])


@pytest.mark.parametrize("role", ["staff", "readonly"])
def test_staff_and_readonly_cannot_change_members(users, people, role):
    billing = DepartmentFactory(name="Billing")
    billing.members.set([people["amelia"]])
    before = row(billing)
    with pytest.raises(PermissionDenied):
        department_update(
            actor=Actor(user=users[role]), department=billing, data={}, members=[users[role]]
        )
    assert row(billing) == before
    assert not Event.objects.exists()


def test_delete_is_logged(actor, people):
    billing = DepartmentFactory(name="Billing")
    billing.members.set([people["amelia"]])
    department_delete(actor=actor, department=billing)
    assert not Department.objects.exists()
    assert Event.objects.get(action="deleted").message == "Deleted department Billing"


# Pages


def test_pages_need_sign_in(client):
    response = client.get(reverse("departments:list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("role", ["owner", "admin", "staff", "readonly"])
def test_every_role_sees_the_list_with_members(login, people, role):
    billing = DepartmentFactory(name="Billing", email="billing@example.com")
    billing.members.set([people["tom"], people["amelia"]])
    DepartmentFactory(name="Sales")
    response = login(role).get(reverse("departments:list"))
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [d.name for d, _ in rows] == ["Billing", "Sales"]
    html = response.content.decode()
    assert html.index(">Amelia Clarke</span>") < html.index(">Tom Bennett</span>")
    assert "No members yet" in html
    manager = role in {"owner", "admin"}
    assert (b"Add department" in response.content) is manager
    edit_link = f'href="{reverse("departments:edit", args=[billing.pk])}"'
    assert (edit_link in html) is manager


def test_list_filters_by_member_and_search(login, people):
    billing = DepartmentFactory(name="Billing", email="accounts@example.com")
    billing.members.set([people["amelia"]])
    DepartmentFactory(name="Sales").members.set([people["tom"]])
    client = login("readonly")

    def names(**params):
        return [d.name for d, _ in client.get(reverse("departments:list"), params).context["rows"]]

    assert names(member=people["tom"].pk) == ["Sales"]
    assert names(q="accounts") == ["Billing"]


def test_list_query_count_does_not_grow_with_departments_and_members(login):
    client = login("owner")
    DepartmentFactory().members.set([UserFactory()])
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("departments:list")).status_code == 200
    for department in DepartmentFactory.create_batch(8):
        department.members.set(UserFactory.create_batch(3))
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("departments:list"))
    assert len(response.context["rows"]) == 9
    assert len(many) == len(few)


def test_form_offers_active_users_and_keeps_a_deactivated_member(login, people):
    gone = UserFactory(username="gone", is_active=False)
    UserFactory(username="never", is_active=False)
    billing = DepartmentFactory(name="Billing")
    billing.members.set([gone])
    response = login("owner").get(reverse("departments:edit", args=[billing.pk]))
    offered = {u.username for u in response.context["form"].fields["members"].queryset}
    assert offered == {"olivia", "adam", "sam", "rita", "amelia", "tom", "priya", "gone"}
    assert response.context["form"]["members"].value() == [gone.pk]


def test_owner_creates_a_department_with_members_through_the_form(login, people):
    response = login("owner").post(
        reverse("departments:add"),
        {"name": "Billing", "email": "billing@example.com", "members": [people["amelia"].pk]},
    )
    assert response.status_code == 302
    billing = Department.objects.get(name="Billing")
    assert list(billing.members.values_list("username", flat=True)) == ["amelia"]
    assert Event.objects.get(action="members_changed").changes == {
        "members": [[], ["Amelia Clarke"]]
    }


def test_admin_changes_members_through_the_form_and_it_is_logged(login, people):
    billing = DepartmentFactory(name="Billing")
    billing.members.set([people["amelia"]])
    response = login("admin").post(
        reverse("departments:edit", args=[billing.pk]),
        {"name": "Billing", "members": [people["tom"].pk, people["priya"].pk], "version": 1},
    )
    assert response.status_code == 302
    assert sorted(billing.members.values_list("username", flat=True)) == ["priya", "tom"]
    event = Event.objects.get(action="members_changed")
    assert event.changes == {"members": [["Amelia Clarke"], ["Priya Shah", "Tom Bennett"]]}
    assert event.actor_label == "adam"


def test_form_refuses_an_inactive_user_who_is_not_a_member(login):
    never = UserFactory(username="never", is_active=False)
    billing = DepartmentFactory(name="Billing")
    response = login("owner").post(
        reverse("departments:edit", args=[billing.pk]),
        {"name": "Billing", "members": [never.pk], "version": 1},
    )
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "members": [f"Select a valid choice. {never.pk} is not one of the available choices."]
    }
    assert not billing.members.exists()


def test_form_shows_the_duplicate_name_error(login):
    DepartmentFactory(name="Billing")
    response = login("owner").post(reverse("departments:add"), {"name": "BILLING"})
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "name": ["A department named “Billing” already exists."]
    }
    assert Department.objects.count() == 1


@pytest.mark.parametrize("role", ["staff", "readonly"])
def test_staff_and_readonly_get_403_on_the_write_pages_and_change_nothing(login, users, role):
    billing = DepartmentFactory(name="Billing")
    before = row(billing)
    client = login(role)
    for name, args in [
        ("departments:add", []),
        ("departments:edit", [billing.pk]),
        ("departments:delete", [billing.pk]),
    ]:
        assert client.get(reverse(name, args=args)).status_code == 403
    data = {"name": "Hijacked", "members": [users[role].pk], "version": 1}
    assert client.post(reverse("departments:edit", args=[billing.pk]), data).status_code == 403
    assert client.post(reverse("departments:add"), data).status_code == 403
    assert client.post(reverse("departments:delete", args=[billing.pk])).status_code == 403
    assert row(billing) == before
    assert Department.objects.count() == 1
    assert not Event.objects.exists()


def test_department_is_deleted_from_its_page(login):
    billing = DepartmentFactory(name="Billing")
    response = login("owner").post(reverse("departments:delete", args=[billing.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("departments:list")
    assert not Department.objects.exists()
