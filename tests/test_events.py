"""The global event log: who, what (before → after), when and why, for every change (CUS-5)."""

import datetime

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from patron.accounts.models import Role
from patron.accounts.services import token_create
from patron.core import audit
from patron.core.actor import Actor
from patron.customers import services as customers
from patron.events.models import Event
from tests.factories import CustomerFactory, GroupFactory, TagFactory, user_with_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


def rename(actor, customer, name):
    return customers.customer_update(actor=actor, customer=customer, data={"name": name})


def test_list_is_newest_first_with_before_and_after(owner_client, actor):
    ann = CustomerFactory(name="Ann", account_number="C000001")
    rename(actor, ann, "Ann Lee")
    customers.customer_tags_set(actor=actor, customer=ann, tags=[TagFactory(name="VIP")])
    response = owner_client.get(reverse("events:list"))
    assert response.status_code == 200
    assert [e.action for e in response.context["page_obj"]] == ["tags_changed", "updated"]
    html = response.content.decode()
    assert "Tags: added VIP" in html
    assert '<td class="text-decoration-line-through text-secondary">Ann</td>' in html
    assert "<td>Ann Lee</td>" in html
    assert reverse("customers:detail", args=[ann.pk]) in html


def test_filters_by_actor_action_object_type_account_and_date(owner_client, actor, staff):
    ann = CustomerFactory(account_number="C000001")
    bob = CustomerFactory(account_number="C000002")
    rename(actor, ann, "Ann Lee")
    rename(Actor(user=staff), bob, "Bob Stone")
    customers.customer_tags_set(actor=actor, customer=bob, tags=[TagFactory(name="VIP")])
    old = rename(actor, ann, "Ann Old")
    Event.objects.filter(customer=old, changes__name__1="Ann Old").update(
        created=timezone.now() - datetime.timedelta(days=40)
    )

    def messages(**params):
        page = owner_client.get(reverse("events:list"), params).context["page_obj"]
        return [(e.customer.account_number, e.action, e.actor_label) for e in page]

    assert messages(actor=staff.pk) == [("C000002", "updated", "sam")]
    assert messages(action="tags_changed") == [("C000002", "tags_changed", "olivia")]
    assert messages(account="c000001") == [
        ("C000001", "updated", "olivia"),
        ("C000001", "updated", "olivia"),
    ]
    since = (timezone.localdate() - datetime.timedelta(days=1)).isoformat()
    assert len(messages(account="C000001", date_from=since)) == 1
    until = (timezone.localdate() - datetime.timedelta(days=30)).isoformat()
    assert len(messages(date_to=until)) == 1
    assert messages(object_type="customers.contact") == []


def test_configuration_events_have_no_customer(owner_client, actor):
    from patron.tags.services import tag_create

    tag_create(actor=actor, data={"name": "Gold"})
    response = owner_client.get(reverse("events:list"), {"object_type": "tags.tag"})
    [event] = response.context["page_obj"]
    assert (event.customer, event.message) == (None, "Created tag Gold")


def test_rows_say_via_token_and_system():
    """A token's events name the token; a job's events say System and the job."""
    owner = user_with_role(Role.OWNER, username="olivia")
    token, _ = token_create(actor=Actor(user=owner), user=owner, name="Nightly sync")
    customer = CustomerFactory(name="Ann")
    rename(Actor(user=owner, token=token), customer, "Ann Lee")
    rename(Actor.system_actor("status scheduler"), customer, "Ann Lee-Smith")
    events = Event.objects.filter(customer=customer)
    html = render_to_string("events/_event_rows.html", {"events": events})
    assert "via token Nightly sync" in html
    assert '<span class="badge text-bg-light border">System</span>' in html
    assert "status scheduler" in html


def test_rows_render_lists_booleans_and_empty_values_readably():
    customer = CustomerFactory(name="Ann")
    event = audit.record(
        actor=Actor.system_actor("tests"),
        action="updated",
        obj=customer,
        customer=customer,
        changes={"tags": [[], ["Gold", "VIP"]], "archived": [False, True], "notes": ["x", ""]},
        message="Edited",
        reason="Customer asked",
    )
    html = render_to_string("events/_event_rows.html", {"events": [event], "hide_customer": True})
    assert "<td>Gold, VIP</td>" in html
    assert "<td>Yes</td>" in html and ">No</td>" in html
    assert "<td>—</td>" in html
    assert "Reason: Customer asked" in html
    assert "Archived" in html


def test_list_query_count_stays_constant_as_events_grow(owner_client, actor, staff):
    """Fifty events or five: the page issues the same number of queries."""
    token, _ = token_create(actor=Actor(user=staff), user=staff, name="Script")
    customer = CustomerFactory()
    rename(actor, customer, "One")
    with CaptureQueriesContext(connection) as few:
        owner_client.get(reverse("events:list"))
    for n in range(15):
        other = CustomerFactory()
        rename(Actor(user=staff, token=token), other, f"Name {n}")
        rename(Actor.system_actor("job"), other, f"Later {n}")
        customers.customer_tags_set(actor=actor, customer=other, tags=[TagFactory()])
    with CaptureQueriesContext(connection) as many:
        response = owner_client.get(reverse("events:list"))
    assert len(response.context["page_obj"]) == 47  # token, first rename, 45 more
    assert len(many) == len(few)


def test_htmx_request_gets_only_the_table(owner_client, actor):
    rename(actor, CustomerFactory(), "Ann")
    response = owner_client.get(reverse("events:list"), HTTP_HX_REQUEST="true")
    assert [t.name for t in response.templates][0] == "events/_event_table.html"


def test_pages_of_fifty(owner_client, actor):
    customer = CustomerFactory()
    for n in range(51):
        rename(actor, customer, f"Name {n}")
    first = owner_client.get(reverse("events:list")).context["page_obj"]
    second = owner_client.get(reverse("events:list"), {"page": 2}).context["page_obj"]
    assert (len(first), len(second)) == (50, 1)
    assert second[0].changes["name"][1] == "Name 0"


def test_restricted_user_sees_only_events_of_customers_in_their_groups(client, actor, staff):
    """Customers outside a user's groups leave no trace in the log they see."""
    north = GroupFactory(name="North")
    inside, outside = CustomerFactory(name="In"), CustomerFactory(name="Out")
    customers.customer_groups_set(actor=actor, customer=inside, groups=[north])
    rename(actor, outside, "Out Renamed")
    staff.restricted_groups.add(north)
    client.force_login(staff)
    page = client.get(reverse("events:list")).context["page_obj"]
    assert {e.customer_id for e in page} == {inside.pk}


def test_event_log_needs_sign_in(client):
    response = client.get(reverse("events:list"))
    assert response.status_code == 302


def test_bad_date_filter_is_a_field_error(owner_client):
    response = owner_client.get(reverse("events:list"), {"date_from": "yesterday"})
    assert response.status_code == 200
    assert response.context["filterset"].errors == {"date_from": ["Enter a valid date."]}
    assert len(response.context["page_obj"]) == 0


# --- API -------------------------------------------------------------------------


def test_api_filtered_by_customer_returns_only_its_events_newest_first(api, actor):
    ann, bob = CustomerFactory(name="Ann"), CustomerFactory(name="Bob")
    rename(actor, ann, "Ann Lee")
    rename(actor, bob, "Bob Stone")
    rename(actor, ann, "Ann Lee-Smith")
    response = api["readonly"].get("/api/events/", {"customer": ann.pk})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [(r["customer"], r["changes"]) for r in results] == [
        (ann.pk, {"name": ["Ann Lee", "Ann Lee-Smith"]}),
        (ann.pk, {"name": ["Ann", "Ann Lee"]}),
    ]
    assert results[0]["actor_kind"] == "user"
    assert results[0]["actor_label"] == "olivia"
    assert results[0]["object_type"] == "customers.customer"


def test_api_is_read_only(api, actor):
    rename(actor, CustomerFactory(), "Ann")
    event = Event.objects.get()
    assert api["owner"].post("/api/events/", {}, format="json").status_code == 405
    assert api["owner"].delete(f"/api/events/{event.pk}/").status_code == 405
    assert Event.objects.count() == 1


def test_api_cursor_pages_are_newest_first(api, actor):
    customer = CustomerFactory()
    for n in range(5):
        rename(actor, customer, f"Name {n}")
    first = api["owner"].get("/api/events/", {"page_size": 3}).json()
    second = api["owner"].get(first["next"]).json()
    names = [r["changes"]["name"][1] for r in first["results"] + second["results"]]
    assert names == ["Name 4", "Name 3", "Name 2", "Name 1", "Name 0"]


def test_api_anonymous_gets_401(api):
    response = api["anon"].get("/api/events/")
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}
