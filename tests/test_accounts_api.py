"""Users through the REST API: everyone with view_user reads, only Owners write (ACC-1)."""

import pytest

from patron.accounts.models import Role, User
from patron.events.models import Event
from tests.factories import GroupFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Orchard-lantern-42"
LAST_OWNER = (
    "olivia is the last active Owner. Give another active user the Owner role first, "
    "so that someone can still manage users and roles."
)


def new_user(**overrides):
    body = {
        "username": "nina",
        "first_name": "Nina",
        "email": "nina@example.com",
        "role": Role.objects.get(name=Role.STAFF).pk,
        "password": NEW_PASSWORD,
    }
    body.update(overrides)
    return body


@pytest.mark.parametrize("path", ["/api/users/", "/api/roles/", "/api/events/", "/api/tokens/"])
def test_anonymous_gets_401_with_a_json_detail(api, path):
    response = api["anon"].get(path)
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}


@pytest.mark.parametrize("who", ["owner", "admin", "staff", "readonly"])
def test_every_role_with_view_user_lists_users(api, who):
    response = api[who].get("/api/users/")
    assert response.status_code == 200
    assert sorted(u["username"] for u in response.json()["results"]) == [
        "adam",
        "olivia",
        "rita",
        "sam",
    ]
    assert "password" not in response.json()["results"][0]


def test_owner_creates_a_user(api):
    north = GroupFactory(name="North")
    response = api["owner"].post(
        "/api/users/", new_user(restricted_groups=[north.pk]), format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["username"], body["role_name"], body["restricted_groups"]) == (
        "nina",
        "Staff",
        [north.pk],
    )
    assert "password" not in body
    assert response["ETag"] == f'"{body["id"]}-1"'
    assert User.objects.get(username="nina").check_password(NEW_PASSWORD)


def test_password_is_required_on_create(api):
    body = new_user()
    del body["password"]
    response = api["owner"].post("/api/users/", body, format="json")
    assert response.status_code == 400
    assert response.json() == {"password": ["This field is required."]}


def test_weak_password_is_a_400_keyed_by_password(api):
    response = api["owner"].post("/api/users/", new_user(password="tulip"), format="json")
    assert response.status_code == 400
    assert response.json() == {
        "password": ["This password is too short. It must contain at least 10 characters."]
    }
    assert not User.objects.filter(username="nina").exists()


@pytest.mark.parametrize("who", ["admin", "staff", "readonly"])
def test_non_owners_cannot_create_users(api, who):
    before = User.objects.count()
    response = api[who].post("/api/users/", new_user(), format="json")
    assert response.status_code == 403
    assert User.objects.count() == before
    assert not Event.objects.filter(object_type__model="user").exists()


@pytest.mark.parametrize("who", ["admin", "staff", "readonly"])
def test_non_owners_cannot_edit_users(api, users, who):
    target = users["readonly"] if who != "readonly" else users["staff"]
    response = api[who].patch(f"/api/users/{target.pk}/", {"first_name": "X"}, format="json")
    assert response.status_code == 403
    target.refresh_from_db()
    assert target.first_name == ""


def test_last_owner_cannot_be_demoted_through_the_api(api, owner):
    response = api["owner"].patch(
        f"/api/users/{owner.pk}/",
        {"role": Role.objects.get(name=Role.STAFF).pk},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"role": [LAST_OWNER]}
    owner.refresh_from_db()
    assert owner.role.is_owner


def test_last_owner_cannot_be_deactivated_through_the_api(api, owner):
    response = api["owner"].patch(f"/api/users/{owner.pk}/", {"is_active": False}, format="json")
    assert response.status_code == 400
    assert response.json() == {"is_active": [LAST_OWNER]}


def test_stale_if_match_on_a_user_is_412(api, staff):
    etag = api["owner"].get(f"/api/users/{staff.pk}/")["ETag"]
    assert (
        api["owner"]
        .patch(f"/api/users/{staff.pk}/", {"first_name": "Sam"}, format="json", HTTP_IF_MATCH=etag)
        .status_code
        == 200
    )
    stale = api["owner"].patch(
        f"/api/users/{staff.pk}/", {"first_name": "Samuel"}, format="json", HTTP_IF_MATCH=etag
    )
    assert stale.status_code == 412
    staff.refresh_from_db()
    assert staff.first_name == "Sam"


def test_users_are_not_deleted(api, staff):
    response = api["owner"].delete(f"/api/users/{staff.pk}/")
    assert response.status_code == 405
    assert response.json() == {
        "detail": "Users are deactivated, never deleted: set is_active to false."
    }
    assert User.objects.filter(pk=staff.pk).exists()


def test_owner_sets_a_password(api, staff):
    response = api["owner"].post(
        f"/api/users/{staff.pk}/password/", {"password": NEW_PASSWORD}, format="json"
    )
    assert response.status_code == 204
    staff.refresh_from_db()
    assert staff.check_password(NEW_PASSWORD)


def test_staff_cannot_set_a_password(api, readonly):
    response = api["staff"].post(
        f"/api/users/{readonly.pk}/password/", {"password": NEW_PASSWORD}, format="json"
    )
    assert response.status_code == 403
    readonly.refresh_from_db()
    assert not readonly.check_password(NEW_PASSWORD)


def test_schema_lists_the_new_endpoints(api):
    response = api["owner"].get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/users/",
        "/api/roles/",
        "/api/tokens/",
        "/api/tokens/{id}/revoke/",
        "/api/events/",
    ):
        assert path in paths
