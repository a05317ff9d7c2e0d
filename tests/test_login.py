"""Signing in: username and password, clear messages, throttled guessing (ACC-1)."""

import pytest
from django.urls import reverse

from patron.accounts.models import LoginFailure
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

WRONG = "That username and password do not match. Both are case-sensitive."


def sign_in(client, username, password):
    return client.post(reverse("accounts:login"), {"username": username, "password": password})


def test_correct_password_signs_in_and_lands_on_customers(client, owner):
    """The right password opens a session and goes to the customer list."""
    response = sign_in(client, "olivia", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:list")
    assert client.session["_auth_user_id"] == str(owner.pk)


def test_wrong_password_says_so_and_records_a_failure(client, owner):
    """A wrong password shows the plain message and no session is opened."""
    response = sign_in(client, "olivia", "not-the-password")
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [WRONG]
    assert "_auth_user_id" not in client.session
    assert LoginFailure.objects.filter(username="olivia").count() == 1


def test_inactive_user_cannot_sign_in(client, staff):
    """A deactivated user's correct password is refused like a wrong one."""
    staff.is_active = False
    staff.save()
    response = sign_in(client, "sam", PASSWORD)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_after_too_many_failures_even_the_right_password_is_refused(client, owner, settings):
    """Once PATRON_LOGIN_MAX_FAILURES guesses failed, the account is locked for a while."""
    settings.PATRON_LOGIN_MAX_FAILURES = 3
    settings.PATRON_LOGIN_LOCK_MINUTES = 15
    for _ in range(3):
        sign_in(client, "olivia", "guess")
    response = sign_in(client, "olivia", PASSWORD)
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "Too many failed sign-in attempts. Try again in 15 minutes."
    ]
    assert "_auth_user_id" not in client.session


def test_lock_is_per_username(client, owner, staff, settings):
    """Failures against one username do not lock another."""
    settings.PATRON_LOGIN_MAX_FAILURES = 2
    for _ in range(2):
        sign_in(client, "olivia", "guess")
    response = sign_in(client, "sam", PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(staff.pk)


def test_success_clears_earlier_failures(client, owner, settings):
    """A successful sign-in forgets the failures before it."""
    settings.PATRON_LOGIN_MAX_FAILURES = 3
    sign_in(client, "olivia", "guess")
    sign_in(client, "olivia", "guess")
    assert sign_in(client, "olivia", PASSWORD).status_code == 302
    assert LoginFailure.objects.filter(username="olivia").count() == 0


def test_sign_out_ends_the_session(client, owner):
    """Signing out returns to the sign-in page and the session is gone."""
    client.force_login(owner)
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login")
    assert "_auth_user_id" not in client.session


def test_pages_name_the_favicon_and_favicon_ico_leads_to_it(client, owner):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("/patron/favicon.svg")
    client.force_login(owner)
    page = client.get("/customers/").content.decode()
    assert 'rel="icon" href="/static/patron/favicon.svg"' in page
