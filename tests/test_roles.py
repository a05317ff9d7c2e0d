"""Roles are permission sets an Owner edits; the change takes effect at once (ACC-1, ACC-2)."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from patron.accounts.models import Role
from patron.accounts.services import role_create, role_delete, role_update
from patron.core.actor import Actor
from patron.core.errors import PermissionDenied, ValidationError
from patron.events.models import Event
from patron.tags.models import Tag
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def perm(name: str) -> Permission:
    app_label, codename = name.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def names(role: Role) -> set[str]:
    return {
        f"{a}.{c}" for a, c in role.permissions.values_list("content_type__app_label", "codename")
    }


def test_default_roles_follow_the_spec(users):
    """Administrators manage lists but not users; Staff only view lists; Read-only views."""
    admin, staff, readonly = users["admin"], users["staff"], users["readonly"]
    assert admin.has_perm("tags.add_tag") and admin.has_perm("statuses.change_status")
    assert not admin.has_perm("accounts.add_user")
    assert not admin.has_perm("accounts.change_role")
    assert staff.has_perm("customers.change_customer") and staff.has_perm("tags.view_tag")
    assert not staff.has_perm("tags.add_tag")
    assert readonly.has_perm("customers.view_customer")
    assert not readonly.has_perm("customers.change_customer")
    assert users["owner"].has_perm("accounts.add_user")


def test_giving_staff_a_permission_takes_effect_in_the_api(owner, api):
    """Once Staff may add tags, a Staff token creates one; before, it was refused."""
    assert api["staff"].post("/api/tags/", {"name": "VIP"}, format="json").status_code == 403
    assert not Tag.objects.exists()
    staff_role = Role.objects.get(name=Role.STAFF)
    role_update(
        actor=Actor(user=owner),
        role=staff_role,
        data={},
        permissions=[*staff_role.permissions.all(), perm("tags.add_tag")],
    )
    response = api["staff"].post("/api/tags/", {"name": "VIP"}, format="json")
    assert response.status_code == 201
    assert Tag.objects.get().name == "VIP"


def test_permission_change_is_logged_as_added_and_removed(owner):
    role = role_create(
        actor=Actor(user=owner), data={"name": "Auditors"}, permissions=[perm("tags.view_tag")]
    )
    role_update(
        actor=Actor(user=owner),
        role=role,
        data={"description": "Look only"},
        permissions=[perm("customers.view_customer")],
    )
    event = Event.objects.filter(object_type__model="role").first()
    assert event.action == "updated"
    assert event.changes == {
        "description": ["", "Look only"],
        "permissions_removed": [["tags.view_tag"], None],
        "permissions_added": [None, ["customers.view_customer"]],
    }
    assert names(role) == {"customers.view_customer"}


def test_owner_role_cannot_lose_its_owner_flag(owner):
    role = Role.objects.get(name=Role.OWNER)
    with pytest.raises(ValidationError) as exc:
        role_update(actor=Actor(user=owner), role=role, data={"is_owner": False})
    assert exc.value.message_dict == {
        "is_owner": ["The Owner role always holds every permission; this cannot be switched off."]
    }
    role.refresh_from_db()
    assert role.is_owner


def test_role_names_are_unique_in_any_case(owner):
    with pytest.raises(ValidationError) as exc:
        role_create(actor=Actor(user=owner), data={"name": "staff"})
    assert exc.value.message_dict == {"name": ["A role named “staff” already exists."]}


def test_role_held_by_users_cannot_be_deleted(owner, staff):
    role = Role.objects.get(name=Role.STAFF)
    with pytest.raises(ValidationError) as exc:
        role_delete(actor=Actor(user=owner), role=role)
    assert exc.value.messages == ["1 user has the role “Staff”. Give them another role first."]
    assert Role.objects.filter(pk=role.pk).exists()


def test_unused_role_is_deleted_and_logged(owner):
    role = role_create(actor=Actor(user=owner), data={"name": "Temps"})
    role_delete(actor=Actor(user=owner), role=role)
    assert not Role.objects.filter(name="Temps").exists()
    event = Event.objects.filter(object_type__model="role").first()
    assert (event.action, event.changes) == ("deleted", {"name": ["Temps", None]})


@pytest.mark.parametrize("who", ["admin_user", "staff", "readonly"])
def test_only_owners_manage_roles(who, request):
    user = request.getfixturevalue(who)
    staff_role = Role.objects.get(name=Role.STAFF)
    before = names(staff_role)
    with pytest.raises(PermissionDenied):
        role_create(actor=Actor(user=user), data={"name": "Mine"})
    with pytest.raises(PermissionDenied):
        role_update(
            actor=Actor(user=user), role=staff_role, data={}, permissions=[perm("tags.add_tag")]
        )
    assert not Role.objects.filter(name="Mine").exists()
    assert names(staff_role) == before


def test_non_owner_cannot_create_an_owner_role(owner):
    perms = Permission.objects.filter(
        content_type__app_label="accounts", codename__in=["add_role", "view_role"]
    )
    makers = role_create(actor=Actor(user=owner), data={"name": "Role makers"}, permissions=perms)
    maker = UserFactory(role=makers)
    with pytest.raises(PermissionDenied):
        role_create(actor=Actor(user=maker), data={"name": "Gods", "is_owner": True})
    assert not Role.objects.filter(name="Gods").exists()


# --- pages -----------------------------------------------------------------------


def test_role_page_shows_a_permission_matrix(client, owner):
    """Rows are models grouped by app; columns view/add/change/delete; ticks show the set."""
    client.force_login(owner)
    staff_role = Role.objects.get(name=Role.STAFF)
    response = client.get(reverse("accounts:role_edit", args=[staff_role.pk]))
    assert response.status_code == 200
    matrix = response.context["form"].matrix()
    apps = [group["app"] for group in matrix]
    assert "Event log" in apps and "People and access" in apps
    tags = next(g for g in matrix if g["rows"][0]["label"] == "Tags")
    cells = {action: checked for action, _, checked in tags["rows"][0]["cells"]}
    assert cells == {"view": True, "add": False, "change": False, "delete": False}
    html = response.content.decode()
    assert 'data-perm="tags.add_tag"' in html
    assert "Login failures" not in html


def test_saving_the_matrix_changes_the_role(client, owner):
    client.force_login(owner)
    role = role_create(actor=Actor(user=owner), data={"name": "Taggers"})
    response = client.post(
        reverse("accounts:role_edit", args=[role.pk]),
        {
            "name": "Taggers",
            "description": "",
            "permissions": [perm("tags.view_tag").pk, perm("tags.add_tag").pk],
            "version": role.version,
        },
    )
    assert response.status_code == 302
    assert names(role) == {"tags.view_tag", "tags.add_tag"}


def test_admin_cannot_edit_roles_through_the_page(client, admin_user):
    client.force_login(admin_user)
    role = Role.objects.get(name=Role.STAFF)
    before = names(role)
    response = client.post(
        reverse("accounts:role_edit", args=[role.pk]),
        {"name": "Staff", "permissions": [perm("tags.add_tag").pk], "version": role.version},
    )
    assert response.status_code == 403
    assert names(role) == before


def test_deleting_a_held_role_from_the_page_shows_why(client, owner, staff):
    client.force_login(owner)
    role = Role.objects.get(name=Role.STAFF)
    response = client.post(reverse("accounts:role_delete", args=[role.pk]), follow=True)
    assert [str(m) for m in response.context["messages"]] == [
        "1 user has the role “Staff”. Give them another role first."
    ]
    assert Role.objects.filter(pk=role.pk).exists()


def test_role_list_counts_users_and_permissions(client, owner, staff):
    client.force_login(owner)
    response = client.get(reverse("accounts:role_list"))
    rows = {role.name: role for role, _ in response.context["rows"]}
    assert rows["Staff"].user_count == 1
    assert rows["Staff"].permission_count == Role.objects.get(name="Staff").permissions.count()
    assert list(rows) == ["Owner", "Administrator", "Read-only", "Staff"]


# --- API -------------------------------------------------------------------------


def test_api_role_permissions_are_app_label_codename_strings(api):
    response = api["owner"].post(
        "/api/roles/",
        {"name": "Taggers", "permissions": ["tags.view_tag", "tags.add_tag"]},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["permissions"] == ["tags.add_tag", "tags.view_tag"]


def test_api_unknown_permission_is_a_400_keyed_by_permissions(api):
    response = api["owner"].post(
        "/api/roles/", {"name": "Taggers", "permissions": ["tags.fly_tag"]}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"permissions": ["Unknown permission: tags.fly_tag."]}
    assert not Role.objects.filter(name="Taggers").exists()


@pytest.mark.parametrize("who", ["admin", "staff", "readonly"])
def test_api_only_owners_write_roles(api, who):
    before = Role.objects.count()
    response = api[who].post("/api/roles/", {"name": "Mine"}, format="json")
    assert response.status_code == 403
    assert Role.objects.count() == before


def test_api_update_role_permissions_with_if_match(api):
    role = Role.objects.get(name=Role.READ_ONLY)
    etag = api["owner"].get(f"/api/roles/{role.pk}/")["ETag"]
    response = api["owner"].patch(
        f"/api/roles/{role.pk}/",
        {"permissions": ["customers.view_customer"]},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert response.status_code == 200
    assert response.json()["permissions"] == ["customers.view_customer"]
    stale = api["owner"].patch(
        f"/api/roles/{role.pk}/", {"description": "x"}, format="json", HTTP_IF_MATCH=etag
    )
    assert stale.status_code == 412
    role.refresh_from_db()
    assert role.description != "x"
