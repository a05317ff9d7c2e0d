"""History never names a customer the viewer cannot see (issue #15, item 2).

The world: "Harbour Cafe" is in Leeds (under North, the staff user's
restriction); its referrer "Meadow Print Works Ltd" (C000001) is in South.
The staff user may open Harbour Cafe's overview, the event log and the events
API; the referrer's name and account number appear on none of them, where
they read "a customer you cannot see". An Owner still sees the name, and so
does the staff user for a referrer inside their groups, so a page that names
nobody cannot pass by accident.
"""

from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from patron.accounts.models import User
from patron.core import audit
from patron.core.actor import Actor
from patron.core.errors import ValidationError
from patron.customers import services
from patron.customers.models import Customer
from patron.events.models import Event
from patron.events.privacy import HIDDEN_CUSTOMER
from patron.groups.models import GroupSet
from patron.imports.services import import_upload
from patron.jobs.services import job_run
from tests.conftest import token_client
from tests.factories import CustomerFactory, GroupFactory, active_status

pytestmark = pytest.mark.django_db

REFERRER = "Meadow Print Works Ltd (C000001)"
MARKS = ("Meadow Print Works", "C000001")


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    return tmp_path


@pytest.fixture
def world(owner, staff):
    w = SimpleNamespace(actor=Actor(user=owner))
    region = GroupSet.objects.create(name="Region", single_choice=False)
    w.north = GroupFactory(group_set=region, name="North")
    w.leeds = GroupFactory(group_set=region, name="Leeds", parent=w.north)
    w.south = GroupFactory(group_set=region, name="South")
    w.referrer = CustomerFactory(name="Meadow Print Works Ltd", account_number="C000001")
    w.neighbour = CustomerFactory(name="Northern Neighbour", account_number="N000007")
    w.customer = CustomerFactory(name="Harbour Cafe", account_number="H000002")
    services.customer_groups_set(actor=w.actor, customer=w.referrer, groups=[w.south])
    for customer in (w.neighbour, w.customer):
        services.customer_groups_set(actor=w.actor, customer=customer, groups=[w.leeds])
    # Referred by the hidden customer, then by the visible one, then back again.
    for referrer in (w.referrer, w.neighbour, w.referrer):
        services.customer_update(actor=w.actor, customer=w.customer, data={"referred_by": referrer})
    # A customer opened with the hidden referrer: its `created` event names it.
    w.opened = services.customer_create(
        actor=w.actor,
        data={
            "name": "Opened Later",
            "account_number": "H000003",
            "status": active_status(),
            "referred_by": w.referrer,
        },
        groups=[w.leeds],
    )
    staff.restricted_groups.set([w.north])
    w.staff = User.objects.get(pk=staff.pk)  # fresh: the restriction is cached per object
    return w


def record_old_event(world, changes):
    """An event of an older shape: only display text, under a key that is no field."""
    return audit.record(
        actor=world.actor,
        action="updated",
        obj=world.customer,
        customer=world.customer,
        changes=changes,
        message="Edited profile",
    )


def assert_hidden(text: str):
    for mark in MARKS:
        assert mark not in text, f"{mark!r} leaked"
    assert HIDDEN_CUSTOMER in text


def pages(client, world):
    return {
        "overview": client.get(reverse("customers:detail", args=[world.customer.pk])),
        "event card": client.get(reverse("customers:events", args=[world.customer.pk])),
        "opened overview": client.get(reverse("customers:detail", args=[world.opened.pk])),
        "event log": client.get(reverse("events:list")),
    }


def test_the_events_record_the_referrer_as_text(world):
    """The premise: the stored changes hold the referrer's name and account number."""
    stored = Event.objects.filter(customer=world.customer, changes__has_key="referred_by")
    assert REFERRER in str([e.changes for e in stored])


def test_web_pages_never_name_a_hidden_referrer(client, world):
    record_old_event(world, {"introduced_by": [None, REFERRER]})
    client.force_login(world.staff)
    for name, response in pages(client, world).items():
        assert response.status_code == 200, name
        text = response.content.decode()
        assert_hidden(text)
        if name != "opened overview":
            # The visible referrer in between is still named.
            assert "Northern Neighbour (N000007)" in text, name


def test_the_api_never_names_a_hidden_referrer(world):
    record_old_event(world, {"introduced_by": [None, REFERRER]})
    rest = token_client(world.staff)
    listing = rest.get("/api/events/", {"page_size": 500})
    assert listing.status_code == 200
    assert_hidden(listing.content.decode())
    by_customer = rest.get("/api/events/", {"customer": world.customer.pk}).json()["results"]
    referrals = [e["changes"]["referred_by"] for e in by_customer if "referred_by" in e["changes"]]
    assert referrals == [
        ["Northern Neighbour (N000007)", HIDDEN_CUSTOMER],
        [HIDDEN_CUSTOMER, "Northern Neighbour (N000007)"],
        [None, HIDDEN_CUSTOMER],
    ]
    old = next(e for e in by_customer if "introduced_by" in e["changes"])
    assert old["changes"] == {"introduced_by": [None, HIDDEN_CUSTOMER]}
    for event in Event.objects.filter(customer__in=[world.customer, world.opened]):
        detail = rest.get(f"/api/events/{event.pk}/")
        assert detail.status_code == 200
        for mark in MARKS:
            assert mark not in detail.content.decode()


def test_an_owner_still_sees_the_referrer(client, world, owner):
    record_old_event(world, {"introduced_by": [None, REFERRER]})
    client.force_login(owner)
    for name, response in pages(client, world).items():
        assert response.status_code == 200, name
        text = response.content.decode()
        assert REFERRER in text, name
        assert HIDDEN_CUSTOMER not in text, name
    rest = token_client(owner)
    body = rest.get("/api/events/", {"customer": world.customer.pk}).json()["results"]
    assert [None, REFERRER] in [e["changes"].get("referred_by") for e in body]
    assert HIDDEN_CUSTOMER not in str(body)


def test_a_referrer_the_user_can_see_is_named(client, world):
    """Only hidden customers are masked: texts that merely look like one are left alone."""
    record_old_event(
        world,
        {
            "introduced_by": [None, "Northern Neighbour (N000007)"],
            "note": [None, "Boiler (model X)"],
        },
    )
    client.force_login(world.staff)
    text = client.get(reverse("customers:events", args=[world.customer.pk])).content.decode()
    assert "Northern Neighbour (N000007)" in text
    assert "Boiler (model X)" in text


def test_a_referrer_field_fails_closed(world):
    """A value of a field that always names a customer is shown only for a visible one,
    even when no customer holds its number any more."""
    record_old_event(world, {"referred_by": ["Gone Away Ltd (X999999)", "Not A Customer"]})
    body = token_client(world.staff).get("/api/events/", {"customer": world.customer.pk}).json()
    assert body["results"][0]["changes"] == {"referred_by": [HIDDEN_CUSTOMER, HIDDEN_CUSTOMER]}


def test_a_user_who_may_not_see_customers_sees_no_names(world, staff):
    """Without the customer permission restrict() gives no customers: every name is masked."""
    from patron.events.privacy import EventPrivacy

    events = list(Event.objects.filter(customer=world.customer))
    nobody = EventPrivacy.for_events(events, None)
    assert REFERRER not in str([nobody.changes(e) for e in events])
    assert "Northern Neighbour" not in str([nobody.changes(e) for e in events])


def test_masking_costs_one_query_per_page(client, world):
    """The event log costs the same queries with one or many events naming customers."""
    client.force_login(world.staff)
    url = reverse("customers:events", args=[world.customer.pk])

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    count()  # the first request of a session reads what later ones have cached
    few = count()
    for number in range(6):
        record_old_event(world, {"introduced_by": [None, f"Someone {number} (C00010{number})"]})
        CustomerFactory(name=f"Someone {number}", account_number=f"C00010{number}")
        record_old_event(world, {"referred_by": [None, REFERRER]})
    assert count() == few


# --- the import check ---------------------------------------------------------------------


def import_errors(user, content: str) -> list[tuple[int, str]]:
    customer_import = import_upload(
        actor=Actor(user=user), upload=SimpleUploadedFile("customers.csv", content.encode())
    )
    job_run(customer_import.check_job_id)
    customer_import.refresh_from_db()
    return [(e["row"], e["message"]) for e in customer_import.errors]


FILE = "account_number,name,groups\nC000001,Ann,Leeds\nN000007,Bob,Leeds\nNEW1,Cat,Leeds\n"


def test_the_import_check_does_not_reveal_a_hidden_account_number(world):
    """A restricted user is told only that the hidden customer's number cannot be used;
    a number of a customer they can see is still said to belong to a customer."""
    assert import_errors(world.staff, FILE) == [
        (
            2,
            "Account number C000001 cannot be used. Choose another, or leave the cell "
            "empty to number the customer automatically.",
        ),
        (3, "Account number N000007 already belongs to a customer in Patron."),
    ]


def test_the_import_check_tells_an_owner_the_number_is_taken(world, owner):
    assert import_errors(owner, FILE) == [
        (2, "Account number C000001 already belongs to a customer in Patron."),
        (3, "Account number N000007 already belongs to a customer in Patron."),
    ]
    assert Customer.objects.filter(account_number="NEW1").count() == 0


@pytest.mark.parametrize(
    "number, message",
    [
        (
            "C000001",
            "Account number C000001 cannot be used. Choose another, or leave it empty to "
            "number the customer automatically.",
        ),
        ("N000007", "Account number N000007 is already in use."),
    ],
    ids=["hidden", "visible"],
)
def test_creating_a_customer_does_not_reveal_a_hidden_account_number(world, number, message):
    """The form and the API say the same as the import check: a hidden customer's number
    cannot be used; a visible customer's number is in use."""
    data = {"name": "New", "account_number": number, "status": active_status()}
    with pytest.raises(ValidationError) as refused:
        services.customer_create(actor=Actor(user=world.staff), data=data, groups=[world.leeds])
    assert refused.value.message_dict == {"account_number": [message]}
    client = token_client(world.staff)
    response = client.post(
        "/api/customers/",
        {"name": "New", "account_number": number, "status": active_status().pk},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["account_number"] == [message]
