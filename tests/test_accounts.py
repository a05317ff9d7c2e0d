"""Users: only Owners manage them; the last Owner is never demoted or deactivated (ACC-1)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from patron.accounts.models import Role, User
from patron.accounts.services import (
    role_create,
    user_create,
    user_deactivate,
    user_set_password,
    user_update,
)
from patron.core.actor import Actor
from patron.core.errors import PermissionDenied, ValidationError
from patron.events.models import Event
from tests.factories import GroupFactory, UserFactory, user_with_role

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Orchard-lantern-42"
LAST_OWNER = (
    "olivia is the last active Owner. Give another active user the Owner role first, "
    "so that someone can still manage users and roles."
)


def staff_role():
    return Role.objects.get(name=Role.STAFF)


def test_owner_creates_a_user_with_a_hashed_password(actor):
    """The user can sign in with the password; the log shows the profile, not the password."""
    north = GroupFactory(name="North")
    user = user_create(
        actor=actor,
        data={
            "username": "nina",
            "first_name": "Nina",
            "last_name": "Shah",
            "email": "nina@example.com",
            "role": staff_role(),
            "restricted_groups": [north],
        },
        password=NEW_PASSWORD,
    )
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert list(user.restricted_groups.all()) == [north]
    event = Event.objects.get(action="created", object_id=str(user.pk))
    assert event.changes == {
        "username": [None, "nina"],
        "first_name": [None, "Nina"],
        "last_name": [None, "Shah"],
        "email": [None, "nina@example.com"],
        "role": [None, "Staff"],
        "is_active": [None, True],
        "restricted_groups": [None, ["North"]],
    }
    assert event.customer_id is None
    assert user.password not in str(event.changes)


def test_duplicate_username_in_another_case_is_refused(actor, staff):
    with pytest.raises(ValidationError) as exc:
        user_create(
            actor=actor, data={"username": "SAM", "role": staff_role()}, password=NEW_PASSWORD
        )
    assert exc.value.message_dict == {"username": ["A user named “sam” already exists."]}
    assert not User.objects.filter(username="SAM").exists()


def test_weak_password_is_refused_with_the_reason(actor):
    with pytest.raises(ValidationError) as exc:
        user_create(actor=actor, data={"username": "nina", "role": staff_role()}, password="short")
    assert exc.value.message_dict == {
        "password": ["This password is too short. It must contain at least 10 characters."]
    }
    assert not User.objects.filter(username="nina").exists()


@pytest.mark.parametrize("who", ["admin_user", "staff", "readonly"])
def test_only_owners_create_users(who, request):
    user = request.getfixturevalue(who)
    before = User.objects.count()
    with pytest.raises(PermissionDenied):
        user_create(
            actor=Actor(user=user),
            data={"username": "nina", "role": staff_role()},
            password=NEW_PASSWORD,
        )
    assert User.objects.count() == before


def test_last_owner_cannot_be_demoted(owner):
    """The only active Owner keeps the Owner role, with a message saying why."""
    with pytest.raises(ValidationError) as exc:
        user_update(actor=Actor(user=owner), user=owner, data={"role": staff_role()})
    assert exc.value.message_dict == {"role": [LAST_OWNER]}
    owner.refresh_from_db()
    assert owner.role.is_owner
    assert not Event.objects.filter(object_id=str(owner.pk), object_type__model="user").exists()


def test_last_owner_cannot_be_deactivated(owner):
    with pytest.raises(ValidationError) as exc:
        user_deactivate(actor=Actor(user=owner), user=owner)
    assert exc.value.message_dict == {"is_active": [LAST_OWNER]}
    owner.refresh_from_db()
    assert owner.is_active


def test_an_owner_can_be_demoted_while_another_owner_remains(owner):
    other = user_with_role(Role.OWNER, username="otto")
    user = user_update(actor=Actor(user=other), user=owner, data={"role": staff_role()})
    assert user.role.name == Role.STAFF
    event = Event.objects.get(action="updated", object_id=str(owner.pk))
    assert event.changes == {"role": ["Owner", "Staff"]}
    assert event.actor_user == other


def test_deactivate_is_logged(actor, staff):
    user = user_deactivate(actor=actor, user=staff)
    assert user.is_active is False
    event = Event.objects.get(action="deactivated")
    assert event.changes == {"is_active": [True, False]}
    assert event.message == "Deactivated user sam"


def test_a_user_manager_who_is_not_an_owner_cannot_make_someone_an_owner(owner, staff):
    """A custom role allowed to manage users still cannot hand out the Owner role."""
    from django.contrib.auth.models import Permission

    perms = Permission.objects.filter(
        content_type__app_label="accounts", codename__in=["view_user", "change_user", "view_role"]
    )
    managers = role_create(
        actor=Actor(user=owner), data={"name": "User managers"}, permissions=perms
    )
    manager = UserFactory(username="mia", role=managers)
    with pytest.raises(PermissionDenied):
        user_update(actor=Actor(user=manager), user=staff, data={"role": owner.role})
    staff.refresh_from_db()
    assert staff.role.name == Role.STAFF


def test_set_password_logs_the_change_without_the_password(actor, staff):
    user_set_password(actor=actor, user=staff, password=NEW_PASSWORD)
    staff.refresh_from_db()
    assert staff.check_password(NEW_PASSWORD)
    event = Event.objects.get(action="password_set")
    assert event.changes == {}
    assert event.message == "Set a new password for sam"


def test_stale_version_is_refused(actor, staff):
    from patron.core.errors import ConflictError

    user_update(actor=actor, user=staff, data={"first_name": "Samuel"})
    with pytest.raises(ConflictError):
        user_update(actor=actor, user=staff, data={"first_name": "Sammy"}, expected_version=1)
    staff.refresh_from_db()
    assert staff.first_name == "Samuel"


# --- pages -----------------------------------------------------------------------


def user_form(**overrides):
    data = {
        "username": "nina",
        "first_name": "Nina",
        "last_name": "Shah",
        "email": "nina@example.com",
        "role": staff_role().pk,
        "is_active": "on",
        "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
    }
    data.update(overrides)
    return data


def test_owner_adds_a_user_through_the_form(client, owner):
    client.force_login(owner)
    response = client.post(reverse("accounts:user_add"), user_form())
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:user_list")
    nina = User.objects.get(username="nina")
    assert (nina.role.name, nina.is_active, nina.check_password(NEW_PASSWORD)) == (
        Role.STAFF,
        True,
        True,
    )


def test_mismatched_passwords_are_a_field_error(client, owner):
    client.force_login(owner)
    response = client.post(reverse("accounts:user_add"), user_form(password2="something-else-1"))
    assert response.status_code == 400
    assert response.context["form"].errors == {"password2": ["The two passwords do not match."]}
    assert not User.objects.filter(username="nina").exists()


def test_weak_password_shows_under_the_password_field(client, owner):
    client.force_login(owner)
    response = client.post(
        reverse("accounts:user_add"), user_form(password1="password", password2="password")
    )
    assert response.status_code == 400
    assert response.context["form"].errors["password1"] == [
        "This password is too short. It must contain at least 10 characters.",
        "This password is too common.",
    ]
    assert not User.objects.filter(username="nina").exists()


@pytest.mark.parametrize("who", ["admin_user", "staff"])
def test_non_owners_cannot_add_users_through_the_form(who, client, request):
    """Administrators and Staff get 403 and nothing is created."""
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("accounts:user_add")).status_code == 403
    response = client.post(reverse("accounts:user_add"), user_form())
    assert response.status_code == 403
    assert not User.objects.filter(username="nina").exists()


def test_owner_demoting_themselves_as_last_owner_sees_why(client, owner):
    client.force_login(owner)
    response = client.post(
        reverse("accounts:user_edit", args=[owner.pk]),
        {
            "username": "olivia",
            "email": owner.email,
            "role": staff_role().pk,
            "is_active": "on",
            "version": owner.version,
        },
    )
    assert response.status_code == 400
    assert response.context["form"].errors == {"role": [LAST_OWNER]}
    owner.refresh_from_db()
    assert owner.role.is_owner


def test_edit_form_sets_restricted_groups_and_shows_departments(client, owner, staff):
    from tests.factories import DepartmentFactory

    north = GroupFactory(name="North")
    DepartmentFactory(name="Billing").members.add(staff)
    client.force_login(owner)
    page = client.get(reverse("accounts:user_edit", args=[staff.pk]))
    assert page.context["form"]["departments"].value() == "Billing"
    response = client.post(
        reverse("accounts:user_edit", args=[staff.pk]),
        {
            "username": "sam",
            "email": staff.email,
            "role": staff_role().pk,
            "is_active": "on",
            "restricted_groups": [north.pk],
            "version": staff.version,
        },
    )
    assert response.status_code == 302
    assert list(staff.restricted_groups.all()) == [north]
    event = Event.objects.get(action="updated", object_id=str(staff.pk))
    assert event.changes == {"restricted_groups": [[], ["North"]]}


def test_owner_sets_a_password_through_the_form(client, owner, staff):
    client.force_login(owner)
    response = client.post(
        reverse("accounts:user_password", args=[staff.pk]),
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    staff.refresh_from_db()
    assert staff.check_password(NEW_PASSWORD)


def test_staff_cannot_set_passwords(client, staff, readonly):
    client.force_login(staff)
    response = client.post(
        reverse("accounts:user_password", args=[readonly.pk]),
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 403
    readonly.refresh_from_db()
    assert not readonly.check_password(NEW_PASSWORD)


def test_user_list_filters_and_keeps_a_fixed_query_count(client, users):
    """The list shows every user with role and groups; more users do not mean more queries."""
    client.force_login(users["owner"])
    response = client.get(reverse("accounts:user_list"), {"role": staff_role().pk})
    assert [u.username for u, _ in response.context["rows"]] == ["sam"]
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("accounts:user_list"))
    for n in range(10):
        u = UserFactory(username=f"extra{n}")
        u.restricted_groups.add(GroupFactory())
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("accounts:user_list"))
    assert len(response.context["rows"]) == 14
    assert len(many) == len(few)


def test_a_user_manager_cannot_make_someone_an_owner_through_the_form(client, owner, staff):
    """The Owner role is not offered to a non-Owner, and posting it anyway changes nothing."""
    from django.contrib.auth.models import Permission

    perms = Permission.objects.filter(
        content_type__app_label="accounts", codename__in=["view_user", "change_user", "view_role"]
    )
    managers = role_create(
        actor=Actor(user=owner), data={"name": "User managers"}, permissions=perms
    )
    client.force_login(UserFactory(username="mia", role=managers))
    response = client.post(
        reverse("accounts:user_edit", args=[staff.pk]),
        {
            "username": "sam",
            "email": staff.email,
            "role": owner.role.pk,
            "is_active": "on",
            "version": staff.version,
        },
    )
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "role": ["Select a valid choice. That choice is not one of the available choices."]
    }
    staff.refresh_from_db()
    assert staff.role.name == Role.STAFF
