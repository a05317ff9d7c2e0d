"""Shared fixtures: one user per role, API clients, and the system actor."""

import pytest
from rest_framework.test import APIClient

from patron.accounts.models import ApiToken, Role
from patron.core.actor import Actor
from tests.factories import user_with_role

ROLE_NAMES = {
    "owner": Role.OWNER,
    "admin": Role.ADMINISTRATOR,
    "staff": Role.STAFF,
    "readonly": Role.READ_ONLY,
}


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def owner(db):
    return user_with_role(Role.OWNER, username="olivia")


@pytest.fixture
def admin_user(db):
    return user_with_role(Role.ADMINISTRATOR, username="adam")


@pytest.fixture
def staff(db):
    return user_with_role(Role.STAFF, username="sam")


@pytest.fixture
def readonly(db):
    return user_with_role(Role.READ_ONLY, username="rita")


@pytest.fixture
def users(owner, admin_user, staff, readonly):
    return {"owner": owner, "admin": admin_user, "staff": staff, "readonly": readonly}


@pytest.fixture
def actor(owner):
    return Actor(user=owner)


@pytest.fixture
def system_actor():
    return Actor.system_actor("tests")


def token_client(user) -> APIClient:
    """An API client authenticated with a fresh token of `user`."""
    key = ApiToken.generate_key()
    token = ApiToken(user=user, name="tests")
    token.set_key(key)
    token.save()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def api(users):
    """`api["staff"]` is an API client for the Staff user; `api["anon"]` has no token."""
    clients = {name: token_client(user) for name, user in users.items()}
    clients["anon"] = APIClient()
    return clients
