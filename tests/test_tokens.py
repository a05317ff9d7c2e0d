"""API tokens per user: the key shown once, only its hash stored, revocable, expiring (ACC-5)."""

import datetime
import hashlib

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from patron.accounts.models import ApiToken
from patron.accounts.services import token_create, token_revoke
from patron.core.actor import Actor
from patron.core.errors import PermissionDenied, ValidationError
from patron.events.models import Event

pytestmark = pytest.mark.django_db


def client_with(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_key_is_returned_once_and_only_its_hash_is_stored(staff):
    """The database holds the sha256 of the key and its first 8 characters, never the key."""
    token, key = token_create(actor=Actor(user=staff), user=staff, name="Billing export")
    row = ApiToken.objects.values().get(pk=token.pk)
    assert row["key_hash"] == hashlib.sha256(key.encode()).hexdigest()
    assert row["prefix"] == key[:8]
    assert key not in [str(v) for v in row.values()]
    assert len(key) >= 40


def test_token_authenticates_with_its_users_permissions(staff):
    """A Staff token reads customers and tags but cannot create a tag."""
    _, key = token_create(actor=Actor(user=staff), user=staff, name="Script")
    client = client_with(key)
    assert client.get("/api/tags/").status_code == 200
    response = client.post("/api/tags/", {"name": "VIP"}, format="json")
    assert response.status_code == 403


def test_revoked_token_is_refused(staff):
    """After revocation the token gets 401 with a detail that says it was revoked."""
    token, key = token_create(actor=Actor(user=staff), user=staff, name="Old script")
    token_revoke(actor=Actor(user=staff), token=token)
    response = client_with(key).get("/api/tags/")
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


def test_expired_token_is_refused(staff):
    """A token past its expiry gets 401 with a detail that says it expired."""
    token, key = token_create(
        actor=Actor(user=staff),
        user=staff,
        name="Short",
        expires_at=timezone.now() + datetime.timedelta(minutes=5),
    )
    ApiToken.objects.filter(pk=token.pk).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    response = client_with(key).get("/api/tags/")
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_token_of_a_deactivated_user_is_refused(staff, owner):
    """Deactivating a user stops their tokens too."""
    _, key = token_create(actor=Actor(user=staff), user=staff, name="Script")
    staff.is_active = False
    staff.save()
    response = client_with(key).get("/api/tags/")
    assert response.status_code == 401
    assert response.json()["detail"] == "The token's user is inactive."


def test_unknown_key_is_refused(db):
    response = client_with("not-a-real-key").get("/api/tags/")
    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid token."


def test_default_expiry_comes_from_settings(staff, settings):
    """PATRON_TOKEN_DAYS sets the default lifetime; 0 means the token never expires."""
    settings.PATRON_TOKEN_DAYS = 30
    before = timezone.now()
    token, _ = token_create(actor=Actor(user=staff), user=staff, name="A")
    assert (
        before + datetime.timedelta(days=30)
        <= token.expires_at
        <= timezone.now() + datetime.timedelta(days=30)
    )
    settings.PATRON_TOKEN_DAYS = 0
    token, _ = token_create(actor=Actor(user=staff), user=staff, name="B")
    assert token.expires_at is None


def test_expiry_in_the_past_is_refused(staff):
    with pytest.raises(ValidationError) as exc:
        token_create(
            actor=Actor(user=staff),
            user=staff,
            name="A",
            expires_at=timezone.now() - datetime.timedelta(days=1),
        )
    assert exc.value.message_dict == {"expires_at": ["Choose an expiry date in the future."]}
    assert not ApiToken.objects.exists()


def test_a_name_is_required(staff):
    with pytest.raises(ValidationError) as exc:
        token_create(actor=Actor(user=staff), user=staff, name="  ")
    assert exc.value.message_dict == {
        "name": ["Give the token a name, e.g. the script that will use it."]
    }


def test_staff_cannot_create_or_revoke_someone_elses_token(staff, readonly, owner):
    """Staff manage only their own tokens; nothing is created or revoked for others."""
    with pytest.raises(PermissionDenied):
        token_create(actor=Actor(user=staff), user=readonly, name="Sneaky")
    assert not ApiToken.objects.exists()
    token, _ = token_create(actor=Actor(user=readonly), user=readonly, name="Mine")
    with pytest.raises(PermissionDenied):
        token_revoke(actor=Actor(user=staff), token=token)
    token.refresh_from_db()
    assert token.revoked_at is None


def test_owner_manages_anyones_tokens(owner, staff):
    token, _ = token_create(actor=Actor(user=owner), user=staff, name="For Sam")
    assert token.user == staff
    token = token_revoke(actor=Actor(user=owner), token=token)
    assert token.state == "revoked"


def test_revoking_twice_says_it_was_already_revoked(staff):
    token, _ = token_create(actor=Actor(user=staff), user=staff, name="A")
    token_revoke(actor=Actor(user=staff), token=token)
    with pytest.raises(ValidationError) as exc:
        token_revoke(actor=Actor(user=staff), token=token)
    assert exc.value.messages[0].startswith("The token “A” was already revoked on ")


def test_token_events_never_contain_the_key(staff):
    """Creation and revocation are logged by name and prefix; the key is nowhere in the log."""
    token, key = token_create(actor=Actor(user=staff), user=staff, name="Export")
    token_revoke(actor=Actor(user=staff), token=token)
    events = list(Event.objects.filter(object_id=str(token.pk), object_type__model="apitoken"))
    assert [e.action for e in events] == ["revoked", "created"]
    assert events[1].changes["name"] == [None, "Export"]
    assert events[1].changes["prefix"] == [None, key[:8]]
    for event in events:
        assert key not in str(event.changes) + event.message
        assert event.customer_id is None


def test_writes_through_a_token_are_logged_as_via_that_token(owner):
    """An event written through the API names the token that made it."""
    _, key = token_create(actor=Actor(user=owner), user=owner, name="CI")
    response = client_with(key).post("/api/tags/", {"name": "VIP"}, format="json")
    assert response.status_code == 201
    event = Event.objects.get(action="created", object_type__model="tag")
    assert (event.actor_kind, event.actor_user, event.actor_token.name) == ("token", owner, "CI")
    assert event.actor_label == "olivia (token CI)"


# --- pages -----------------------------------------------------------------------


def test_token_page_shows_the_key_once(client, staff):
    """The key is on the page right after creation and never on the list afterwards."""
    client.force_login(staff)
    response = client.post(reverse("accounts:token_add"), {"name": "Laptop"})
    assert response.status_code == 200
    key = response.context["key"]
    token = ApiToken.objects.get()
    assert (token.user, token.name, token.prefix) == (staff, "Laptop", key[:8])
    assert key in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    listing = client.get(reverse("accounts:token_list")).content.decode()
    assert "Laptop" in listing
    assert key not in listing
    assert f"{key[:8]}…" in listing


def test_token_list_shows_own_tokens_and_owners_see_all(client, staff, owner):
    token_create(actor=Actor(user=staff), user=staff, name="Sam's script")
    token_create(actor=Actor(user=owner), user=owner, name="Olivia's script")
    client.force_login(staff)
    response = client.get(reverse("accounts:token_list"))
    assert [obj.name for obj, _ in response.context["rows"]] == ["Sam's script"]
    assert "User" not in [c.label for c in response.context["columns"]]
    client.force_login(owner)
    response = client.get(reverse("accounts:token_list"))
    assert sorted(obj.name for obj, _ in response.context["rows"]) == [
        "Olivia's script",
        "Sam's script",
    ]
    assert "User" in [c.label for c in response.context["columns"]]


def test_revoke_from_the_page(client, staff):
    token, _ = token_create(actor=Actor(user=staff), user=staff, name="Laptop")
    client.force_login(staff)
    response = client.post(reverse("accounts:token_revoke", args=[token.pk]))
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_someone_elses_token_is_not_found_on_the_page(client, staff, readonly):
    """Staff cannot even see another user's token: 404, and it stays active."""
    token, _ = token_create(actor=Actor(user=readonly), user=readonly, name="Rita's")
    client.force_login(staff)
    response = client.post(reverse("accounts:token_revoke", args=[token.pk]))
    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_expiry_date_in_the_past_is_a_field_error(client, staff):
    client.force_login(staff)
    response = client.post(
        reverse("accounts:token_add"), {"name": "Laptop", "expires_on": "2001-01-01"}
    )
    assert response.status_code == 400
    assert response.context["form"].errors == {"expires_on": ["Choose a date after today."]}
    assert not ApiToken.objects.exists()


# --- API -------------------------------------------------------------------------


def test_api_create_returns_key_once_and_it_works(api, staff):
    response = api["staff"].post("/api/tokens/", {"name": "Nightly sync"}, format="json")
    assert response.status_code == 201
    body = response.json()
    key = body["key"]
    assert body["user"] == staff.pk
    assert body["state"] == "active"
    detail = api["staff"].get(f"/api/tokens/{body['id']}/").json()
    assert "key" not in detail
    assert client_with(key).get("/api/tags/").status_code == 200


def test_api_lists_own_tokens_and_owner_sees_all(api, users):
    staff_names = [t["name"] for t in api["staff"].get("/api/tokens/").json()["results"]]
    assert staff_names == ["tests"]
    owner_users = {t["username"] for t in api["owner"].get("/api/tokens/").json()["results"]}
    assert owner_users == {"olivia", "adam", "sam", "rita"}


def test_api_staff_cannot_create_a_token_for_someone_else(api, readonly):
    before = ApiToken.objects.count()
    response = api["staff"].post("/api/tokens/", {"name": "x", "user": readonly.pk}, format="json")
    assert response.status_code == 400
    assert "user" in response.json()
    assert ApiToken.objects.count() == before


def test_api_revoke(api, staff):
    token, key = token_create(actor=Actor(user=staff), user=staff, name="Old")
    response = api["staff"].post(f"/api/tokens/{token.pk}/revoke/")
    assert response.status_code == 200
    assert response.json()["state"] == "revoked"
    assert client_with(key).get("/api/tags/").status_code == 401


def test_api_revoke_someone_elses_token_is_not_found(api, readonly):
    token, _ = token_create(actor=Actor(user=readonly), user=readonly, name="Rita's")
    response = api["staff"].post(f"/api/tokens/{token.pk}/revoke/")
    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_anonymous_cannot_list_tokens(api):
    response = api["anon"].get("/api/tokens/")
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}
