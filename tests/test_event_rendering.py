"""Event rendering is total: whatever any write path records, every page that shows it opens.

A customer imported from a CSV file with a contact once had a `created` event
whose changes included `contacts` (a reverse relation with no verbose name);
its overview and the whole event log answered 500. These tests write through
every path Patron has and then open every customer's overview, every page of
the event log and the events API.
"""

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from patron.bulk import engine
from patron.bulk.engine import kind_for
from patron.customers import services as customer_services
from patron.customers.models import Customer
from patron.events.models import Event
from patron.events.templatetags.patron_events import event_changes
from patron.imports.phone_lists import phone_list_apply
from patron.imports.services import import_apply_start, import_upload
from patron.jobs.services import job_enqueue, job_run
from patron.ops.demo import load_demo
from patron.statuses.models import Status
from patron.tags.models import Tag
from tests.factories import GroupFactory, GroupSetFactory, TagFactory

pytestmark = pytest.mark.django_db

IMPORT = (
    "account_number,name,status,tags,contact_name,contact_email,contact_phone\n"
    "I100,Imported Person,Active,VIP,Ivy Imported,ivy@example.com,+44 113 496 0100\n"
    "I101,Imported Company Ltd,,,Ian Imported,,07911 123 400\n"
)


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    return tmp_path


def write_through_every_path(actor, client, api):
    """One write of each kind Patron has: demo loader, form, API, import, bulk job
    and undo, phone list, status schedule."""
    load_demo(customers=12)

    # A web form.
    client.force_login(actor.user)
    response = client.post(
        reverse("customers:add"),
        {
            "name": "Form Customer",
            "kind": "person",
            "status": Status.objects.get(name="Active").pk,
            "service_country": "GB",
            "billing_same_as_service": "on",
            "contact_name": "Form Contact",
            "contact_phone": "0113 496 0101",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]

    # The API.
    response = api["owner"].post(
        "/api/customers/",
        {
            "name": "Api Customer",
            "status": Status.objects.get(name="Active").pk,
            "contacts": [{"name": "Api Contact", "email": "contact@example.com"}],
        },
        format="json",
    )
    assert response.status_code == 201, response.content

    # A CSV import with contacts, checked and applied by its jobs.
    customer_import = import_upload(
        actor=actor, upload=SimpleUploadedFile("customers.csv", IMPORT.encode())
    )
    job_run(customer_import.check_job_id)
    customer_import.refresh_from_db()
    assert customer_import.errors == []
    job_run(import_apply_start(actor=actor, customer_import=customer_import).pk)
    assert Customer.objects.filter(account_number__in=["I100", "I101"]).count() == 2

    # A bulk job and its undo.
    tag = Tag.objects.get(name="VIP")
    ids = list(Customer.objects.values_list("pk", flat=True)[:5])
    job = job_run(
        job_enqueue(actor=actor, kind=kind_for("add_tag"), params={"ids": ids, "tag": tag.pk}).pk
    )
    job_run(job_enqueue(actor=actor, kind=engine.UNDO_KIND, params={"job": job.pk}).pk)

    # A group from a phone list.
    group = GroupFactory(name="Phone list", group_set=GroupSetFactory(name="Lists"))
    phone_list_apply(actor=actor, group=group.pk, text="+44 113 496 0100\n")

    # A status change scheduled for later, then applied on its day.
    customer = Customer.objects.get(account_number="I101")
    due = datetime.date.today() + datetime.timedelta(days=3)
    customer_services.customer_status_change(
        actor=actor,
        customer=customer,
        status=Status.objects.get(name="Suspended"),
        reason="Moving house",
        effective_date=due,
    )
    customer_services.status_changes_apply_due(today=due)


def test_every_write_path_leaves_pages_that_open(actor, client, api):
    write_through_every_path(actor, client, api)
    assert Event.objects.filter(customer__account_number="I100", action="created").exists()

    for customer in Customer.objects.all():
        overview = client.get(reverse("customers:detail", args=[customer.pk]))
        assert overview.status_code == 200, customer
        history = client.get(reverse("customers:events", args=[customer.pk]))
        assert history.status_code == 200, customer

    page, pages = 1, 0
    while True:
        response = client.get(reverse("events:list"), {"page": page})
        assert response.status_code == 200, page
        pages += 1
        if not response.context["page_obj"].has_next():
            break
        page += 1
    assert pages >= 1

    url = "/api/events/"
    seen = 0
    while url:
        response = api["owner"].get(url)
        assert response.status_code == 200, url
        seen += len(response.json()["results"])
        url = response.json().get("next")
    assert seen == Event.objects.count()


def test_an_imported_customer_with_a_contact_shows_its_contacts_in_history(actor, client):
    """The import's `created` event names the contacts with a readable label."""
    TagFactory(name="VIP")
    customer_import = import_upload(
        actor=actor, upload=SimpleUploadedFile("customers.csv", IMPORT.encode())
    )
    job_run(customer_import.check_job_id)
    job_run(import_apply_start(actor=actor, customer_import=customer_import).pk)
    event = Event.objects.get(customer__account_number="I100", action="created")
    assert "contacts" in event.changes
    labels = [label for label, _, _ in event_changes(event)["rows"]]
    assert "Contacts" in labels

    client.force_login(actor.user)
    response = client.get(reverse("customers:detail", args=[event.customer_id]))
    assert response.status_code == 200
    assert "Ivy Imported" in response.content.decode()


@pytest.mark.parametrize(
    "changes",
    [
        {"contacts": [[], ["Ivy"]]},
        {"no_such_field": [1, 2]},
        {"tags": [["A"], ["B"]]},
        {"custom:Router serial": [None, "X1"]},
        {"created": "a bare value"},
        {"": [None, 1]},
        {"nested": [{"a": [1, {"b": None}]}, None]},
    ],
)
def test_any_key_any_value_renders_as_text(changes):
    event = Event(
        action="updated",
        object_type=ContentType.objects.get_for_model(Customer),
        changes=changes,
    )
    for label, before, after in event_changes(event)["rows"]:
        assert isinstance(label, str) and label
        assert isinstance(before, str) and isinstance(after, str)


def test_changes_that_are_not_a_mapping_still_render():
    event = Event(action="updated", changes=["an", "old", "shape"])
    rows = event_changes(event)["rows"]
    assert rows and all(isinstance(cell, str) for row in rows for cell in row)
