"""A department-private note, asked for by someone outside the department,
through every surface: the web pages, the API, the event log and search.

Each surface answers 404 for the note itself or leaves it out, and its text
appears nowhere, including a note that was written in the open and made
private later (its old text is in the events of that time).
"""

import pytest
from django.urls import reverse

from patron.notes import services as note_services
from patron.notes.models import Note
from tests.conftest import token_client
from tests.work_fixtures import *  # noqa: F403 (the shared fixtures)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("work_roles")]

SECRET = "Customer disclosed a gambling debt to Zedcorp"
SECRET_WORD = "Zedcorp"


@pytest.fixture(params=["private from the start", "made private later"])
def private_note(request, bella_actor, customer, billing):
    if request.param == "private from the start":
        return note_services.note_create(
            actor=bella_actor,
            customer=customer,
            data={"department": billing, "body": SECRET, "private_to_department": True},
        )
    note = note_services.note_create(
        actor=bella_actor, customer=customer, data={"department": billing, "body": SECRET}
    )
    return note_services.note_update(
        actor=bella_actor, note=note, data={"private_to_department": True}
    )


def assert_hidden(response, url=""):
    assert response.status_code == 200, url
    text = response.content.decode()
    assert SECRET_WORD not in text, url


@pytest.fixture
def web(client, staff):
    client.force_login(staff)
    return client


def test_web_pages(web, private_note, customer, billing):
    """Overview, cards, work pages: no trace of the text; the note's own URLs are 404."""
    for url in [
        reverse("customers:detail", args=[customer.pk]),
        reverse("notes:customer_card", args=[customer.pk]),
        reverse("tickets:customer_work", args=[customer.pk]),
        reverse("tickets:my_work"),
    ]:
        assert_hidden(web.get(url), url)
    edit = reverse("notes:edit", args=[private_note.pk])
    assert web.get(edit).status_code == 404
    assert web.post(edit, {"body": "x", "version": private_note.version}).status_code == 404
    pin = reverse("notes:pin", args=[private_note.pk])
    assert web.post(pin, {"pinned": "1"}).status_code == 404
    private_note.refresh_from_db()
    assert (private_note.body, private_note.pinned) == (SECRET, False)


def test_api(api, private_note, customer):
    staff = api["staff"]
    for params in [{}, {"customer": customer.pk}, {"private_to_department": "true"}]:
        listing = staff.get("/api/notes/", params)
        assert_hidden(listing)
        assert listing.json()["results"] == []
    assert staff.get(f"/api/notes/{private_note.pk}/").status_code == 404
    response = staff.patch(f"/api/notes/{private_note.pk}/", {"body": "x"}, format="json")
    assert response.status_code == 404
    assert Note.objects.filter(pk=private_note.pk, body=SECRET).exists()


def test_event_log(web, api, private_note, customer):
    """The events page (also searched by account), the overview's events card and
    /api/events/: the events without text may show, the text never does."""
    for url in [
        reverse("events:list"),
        reverse("events:list") + f"?account={customer.account_number}",
        reverse("events:list") + "?object_type=notes.note",
        reverse("customers:events", args=[customer.pk]),
    ]:
        assert_hidden(web.get(url), url)
    for params in [{}, {"customer": customer.pk}, {"object_type": "notes.note"}]:
        assert_hidden(api["staff"].get("/api/events/", params))


def test_search(web, api, private_note, customer):
    """Searching for words of the note finds nothing and echoes nothing but the query."""
    response = web.get(reverse("customers:list"), {"q": SECRET_WORD})
    assert response.status_code == 200
    assert customer.name not in response.content.decode()
    response = api["staff"].get("/api/customers/", {"q": SECRET_WORD})
    assert response.status_code in (200, 400)
    assert customer.name not in response.content.decode()


def test_members_and_owners_read_it(client, api, bella, owner, private_note, customer):
    """The same surfaces show the note to a Billing member and to an Owner."""
    for user in (bella, owner):
        client.force_login(user)
        html = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
        assert SECRET in html
        assert token_client(user).get(f"/api/notes/{private_note.pk}/").json()["body"] == SECRET


def test_admin_outside_the_department_does_not_read_it(api, admin_user, private_note, customer):
    """Administrators are not Owners: outside Billing they get a 404 too."""
    assert api["admin"].get(f"/api/notes/{private_note.pk}/").status_code == 404
    assert_hidden(api["admin"].get("/api/events/", {"customer": customer.pk}))
