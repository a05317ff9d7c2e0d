"""Customer pages through the Django test client, as a support agent uses them."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from patron.core.actor import Actor
from patron.customers import services
from patron.customers.models import Customer
from patron.events.models import Event
from patron.groups.models import GroupSet
from patron.statuses.models import Status
from tests.factories import ContactFactory, CustomerFactory, GroupFactory, TagFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


def test_list_needs_sign_in(client):
    response = client.get(reverse("customers:list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_list_filters_by_tag_group_with_subgroups_status_and_search(owner_client, actor):
    vip = TagFactory(name="VIP")
    region = GroupSet.objects.create(name="Region", single_choice=False)
    north = GroupFactory(group_set=region, name="North")
    leeds = GroupFactory(group_set=region, name="Leeds", parent=north)
    ann = CustomerFactory(name="Ann Tagged")
    bob = CustomerFactory(name="Bob Leeds")
    CustomerFactory(name="Cat Plain", account_number="X000777")
    services.customer_tags_set(actor=actor, customer=ann, tags=[vip])
    services.customer_groups_set(actor=actor, customer=bob, groups=[leeds])

    def names(**params):
        response = owner_client.get(reverse("customers:list"), params)
        assert response.status_code == 200
        return [obj.name for obj, _ in response.context["rows"]]

    # Newest first unless a column is chosen.
    assert names() == ["Cat Plain", "Bob Leeds", "Ann Tagged"]
    assert names(sort="name") == ["Ann Tagged", "Bob Leeds", "Cat Plain"]
    assert names(tag=vip.pk) == ["Ann Tagged"]
    assert names(group=north.pk) == ["Bob Leeds"]
    assert names(q="x000777") == ["Cat Plain"]
    assert names(status=Status.objects.get(name="Active").pk) == [
        "Cat Plain",
        "Bob Leeds",
        "Ann Tagged",
    ]
    assert names(sort="-name") == ["Cat Plain", "Bob Leeds", "Ann Tagged"]


def test_archived_customers_leave_the_list_unless_asked(owner_client, actor):
    customer = CustomerFactory(name="Gone Ltd")
    services.customer_archive(actor=actor, customer=customer)
    response = owner_client.get(reverse("customers:list"))
    assert response.context["rows"] == []
    response = owner_client.get(reverse("customers:list"), {"archived": "archived"})
    assert [o.name for o, _ in response.context["rows"]] == ["Gone Ltd"]


def test_htmx_filter_returns_only_the_table(owner_client):
    CustomerFactory(name="Ann")
    response = owner_client.get(reverse("customers:list"), {"q": "Ann"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert b"<html" not in response.content
    assert b"Ann" in response.content


def _tagged_customers(actor, count, tags_each):
    tags = [TagFactory() for _ in range(tags_each)]
    region = GroupSet.objects.create(name=f"Set {count}", single_choice=False)
    groups = [GroupFactory(group_set=region) for _ in range(2)]
    for _ in range(count):
        customer = CustomerFactory()
        services.customer_tags_set(actor=actor, customer=customer, tags=tags)
        services.customer_groups_set(actor=actor, customer=customer, groups=groups)


def test_list_page_queries_do_not_grow_with_rows_and_tags(owner_client, actor):
    _tagged_customers(actor, 2, 1)
    with CaptureQueriesContext(connection) as small:
        owner_client.get(reverse("customers:list"))
    _tagged_customers(actor, 20, 5)
    with CaptureQueriesContext(connection) as large:
        response = owner_client.get(reverse("customers:list"))
    assert len(response.context["rows"]) == 22
    assert len(large.captured_queries) == len(small.captured_queries)


def test_overview_queries_do_not_grow_with_tags_contacts_and_events(owner_client, actor):
    customer = CustomerFactory()
    services.customer_tags_set(actor=actor, customer=customer, tags=[TagFactory()])
    ContactFactory(customer=customer)
    url = reverse("customers:detail", args=[customer.pk])
    with CaptureQueriesContext(connection) as small:
        assert owner_client.get(url).status_code == 200
    services.customer_tags_set(
        actor=actor, customer=customer, tags=[TagFactory() for _ in range(6)]
    )
    for i in range(5):
        ContactFactory(customer=customer, name=f"Contact {i}")
    for i in range(30):
        services.customer_update(actor=actor, customer=customer, data={"notes": f"note {i}"})
    with CaptureQueriesContext(connection) as large:
        response = owner_client.get(url)
    assert response.status_code == 200
    assert len(large.captured_queries) == len(small.captured_queries)


def test_create_customer_with_first_contact(owner_client):
    response = owner_client.post(
        reverse("customers:add"),
        {
            "name": "Grace Hopper",
            "kind": "person",
            "status": Status.objects.get(name="Active").pk,
            "service_country": "GB",
            "billing_same_as_service": "on",
            "contact_name": "Grace Hopper",
            "contact_phone": "0113 496 0000",
        },
    )
    customer = Customer.objects.get(name="Grace Hopper")
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:detail", args=[customer.pk])
    assert customer.contacts.get().phone == "+441134960000"


def test_create_with_invalid_phone_shows_the_field_error(owner_client):
    response = owner_client.post(
        reverse("customers:add"),
        {
            "name": "Bad Number",
            "kind": "person",
            "status": Status.objects.get(name="Active").pk,
            "contact_name": "X",
            "contact_phone": "12345",
        },
    )
    assert response.status_code == 400
    assert "is not a valid number for United Kingdom (GB)" in response.content.decode()
    assert not Customer.objects.exists()


def test_historical_status_is_not_offered_on_create(owner_client):
    response = owner_client.get(reverse("customers:add"))
    offered = [str(label) for value, label in response.context["form"].fields["status"].choices]
    assert "Ex-Customer" not in offered
    assert offered[:2] == ["Active", "Suspended"]  # headline statuses first


def test_historical_status_posted_on_create_gets_the_specific_refusal(owner_client):
    response = owner_client.post(
        reverse("customers:add"),
        {
            "name": "Old Tab",
            "kind": "person",
            "status": Status.objects.get(name="Ex-Customer").pk,
            "service_country": "GB",
            "billing_same_as_service": "on",
        },
    )
    assert response.status_code == 400
    assert "historical" in response.content.decode()
    assert "Select a valid choice" not in response.content.decode()
    assert not Customer.objects.filter(name="Old Tab").exists()


def test_stale_edit_shows_a_conflict_and_keeps_the_other_change(owner_client, actor):
    customer = CustomerFactory(name="Original")
    services.customer_update(actor=actor, customer=customer, data={"name": "Changed elsewhere"})
    response = owner_client.post(
        reverse("customers:edit", args=[customer.pk]),
        {"name": "Mine", "kind": "person", "version": 1, "service_country": "GB"},
    )
    assert response.status_code == 409
    assert "was changed by someone else" in response.content.decode()
    customer.refresh_from_db()
    assert customer.name == "Changed elsewhere"


def test_tag_add_through_htmx_updates_card_and_event_log(owner_client):
    customer = CustomerFactory()
    tag = TagFactory(name="VIP")
    response = owner_client.post(
        reverse("customers:tag_add", args=[customer.pk]), {"tag": tag.pk}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert response["HX-Trigger"] == "customer-changed"
    assert list(customer.tags.values_list("name", flat=True)) == ["VIP"]
    assert Event.objects.filter(customer=customer, action="tags_changed").count() == 1


def test_single_choice_conflict_is_shown_on_the_groups_card(owner_client, actor):
    single = GroupSet.objects.get(name="Customer group")
    GroupFactory(group_set=single, name="Residential")
    business = GroupFactory(group_set=single, name="Business")
    customer = CustomerFactory(name="Ann")
    services.customer_group_add(actor=actor, customer=customer, group=business)
    response = owner_client.post(
        reverse("customers:group_add", args=[customer.pk]),
        {"name": "residential"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "HX-Trigger" not in response
    assert "Ann is already in “Business”" in response.content.decode()
    assert list(customer.groups.values_list("name", flat=True)) == ["Business"]


def test_status_change_without_required_reason_shows_the_error(owner_client):
    customer = CustomerFactory()
    suspended = Status.objects.get(name="Suspended")
    response = owner_client.post(
        reverse("customers:status_change", args=[customer.pk]),
        {"status": suspended.pk, "reason": ""},
        HTTP_HX_REQUEST="true",
    )
    assert "A reason is required to change to “Suspended”." in response.content.decode()
    customer.refresh_from_db()
    assert customer.status.name == "Active"


def test_readonly_sees_the_overview_but_cannot_edit(client, readonly):
    customer = CustomerFactory(name="Read Me")
    client.force_login(readonly)
    assert client.get(reverse("customers:detail", args=[customer.pk])).status_code == 200
    assert client.get(reverse("customers:edit", args=[customer.pk])).status_code == 403
    response = client.post(
        reverse("customers:tag_add", args=[customer.pk]), {"tag": TagFactory().pk}
    )
    assert response.status_code == 403
    assert not customer.tags.exists()


def test_restricted_user_gets_404_for_customers_outside_their_groups(client, staff, actor):
    region = GroupSet.objects.create(name="Region", single_choice=False)
    north = GroupFactory(group_set=region, name="North")
    leeds = GroupFactory(group_set=region, name="Leeds", parent=north)
    south = GroupFactory(group_set=region, name="South")
    inside, outside = CustomerFactory(name="Inside"), CustomerFactory(name="Outside")
    services.customer_groups_set(actor=actor, customer=inside, groups=[leeds])
    services.customer_groups_set(actor=actor, customer=outside, groups=[south])
    staff.restricted_groups.set([north])
    client.force_login(staff)
    assert client.get(reverse("customers:detail", args=[inside.pk])).status_code == 200
    assert client.get(reverse("customers:detail", args=[outside.pk])).status_code == 404
    rows = client.get(reverse("customers:list")).context["rows"]
    assert [o.name for o, _ in rows] == ["Inside"]


def test_archive_button_archives_and_logs(owner_client):
    customer = CustomerFactory()
    response = owner_client.post(reverse("customers:archive", args=[customer.pk]))
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.archived is True
    assert Event.objects.filter(customer=customer, action="archived").exists()


def test_system_actor_changes_are_labelled(actor):
    customer = CustomerFactory()
    services.customer_update(
        actor=Actor.system_actor("status scheduler"), customer=customer, data={"notes": "x"}
    )
    event = Event.objects.get(customer=customer)
    assert (event.actor_kind, event.actor_label) == ("system", "status scheduler")
