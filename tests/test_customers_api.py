"""The customers and contacts API, under every role."""

import pytest

from patron.customers import services
from patron.customers.models import Contact, Customer
from patron.events.models import Event
from patron.groups.models import GroupSet
from patron.statuses.models import Status
from tests.factories import ContactFactory, CustomerFactory, GroupFactory, TagFactory

pytestmark = pytest.mark.django_db

URL = "/api/customers/"


def active_pk():
    return Status.objects.get(name="Active").pk


@pytest.mark.parametrize(
    ("role", "expected"),
    [("owner", 200), ("admin", 200), ("staff", 200), ("readonly", 200), ("anon", 401)],
)
def test_list_by_role(api, role, expected):
    CustomerFactory(name="Ann")
    response = api[role].get(URL)
    assert response.status_code == expected
    if expected == 200:
        assert [c["name"] for c in response.json()["results"]] == ["Ann"]
    else:
        assert "detail" in response.json()


@pytest.mark.parametrize(
    ("role", "expected"),
    [("owner", 201), ("admin", 201), ("staff", 201), ("readonly", 403), ("anon", 401)],
)
def test_create_by_role(api, role, expected):
    response = api[role].post(
        URL, {"name": "New Co", "kind": "company", "status": active_pk()}, format="json"
    )
    assert response.status_code == expected
    assert Customer.objects.filter(name="New Co").exists() is (expected == 201)


@pytest.mark.parametrize(
    ("role", "expected"),
    [("owner", 200), ("admin", 200), ("staff", 200), ("readonly", 403), ("anon", 401)],
)
def test_update_by_role(api, role, expected):
    customer = CustomerFactory(name="Before")
    response = api[role].patch(f"{URL}{customer.pk}/", {"name": "After"}, format="json")
    assert response.status_code == expected
    customer.refresh_from_db()
    assert customer.name == ("After" if expected == 200 else "Before")


def test_create_with_contacts_tags_and_groups(api):
    vip = TagFactory(name="VIP")
    group = GroupFactory(group_set=GroupSet.objects.get(name="Customer group"), name="Residential")
    response = api["staff"].post(
        URL,
        {
            "name": "Ann Smith",
            "status": active_pk(),
            "tags": [vip.pk],
            "groups": [group.pk],
            "contacts": [{"name": "Ann Smith", "mobile": "07911 123456"}],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["tags"] == [vip.pk]
    assert body["groups"] == [group.pk]
    assert body["contacts"][0]["mobile"] == "+447911123456"
    assert response["ETag"] == f'"{body["id"]}-{body["version"]}"'


def test_unknown_tag_id_is_a_field_error_and_nothing_is_written(api):
    response = api["owner"].post(
        URL, {"name": "Ghost", "status": active_pk(), "tags": [99999]}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["tags"] == ['Invalid pk "99999" - object does not exist.']
    assert not Customer.objects.exists()


def test_invalid_phone_in_nested_contact_is_keyed_by_field(api):
    response = api["owner"].post(
        URL,
        {"name": "Bad", "status": active_pk(), "contacts": [{"name": "B", "phone": "12"}]},
        format="json",
    )
    assert response.status_code == 400
    assert "phone" in response.json()
    assert not Customer.objects.exists()


def test_single_choice_conflict_through_the_api(api, actor):
    single = GroupSet.objects.get(name="Customer group")
    a, b = GroupFactory(group_set=single, name="A"), GroupFactory(group_set=single, name="B")
    customer = CustomerFactory()
    response = api["staff"].patch(f"{URL}{customer.pk}/", {"groups": [a.pk, b.pk]}, format="json")
    assert response.status_code == 400
    assert response.json()["groups"] == [
        "Only one group of the single-choice set “Customer group” may be chosen, not “A” and “B”."
    ]
    assert not customer.groups.exists()


def test_stale_if_match_gets_412_and_changes_nothing(api, actor):
    customer = CustomerFactory(name="Original")
    stale = api["owner"].get(f"{URL}{customer.pk}/")["ETag"]
    services.customer_update(actor=actor, customer=customer, data={"name": "Elsewhere"})
    response = api["owner"].patch(
        f"{URL}{customer.pk}/", {"name": "Mine"}, format="json", HTTP_IF_MATCH=stale
    )
    assert response.status_code == 412
    customer.refresh_from_db()
    assert customer.name == "Elsewhere"
    fresh = response["ETag"]
    response = api["owner"].patch(
        f"{URL}{customer.pk}/", {"name": "Mine"}, format="json", HTTP_IF_MATCH=fresh
    )
    assert response.status_code == 200
    assert response.json()["name"] == "Mine"


def test_status_change_action_enforces_requirements(api):
    customer = CustomerFactory()
    ceased = Status.objects.get(name="Ceased")
    response = api["staff"].post(
        f"{URL}{customer.pk}/status/", {"status": ceased.pk}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "reason": ["A reason is required to change to “Ceased”."],
        "effective_date": ["An effective date is required to change to “Ceased”."],
    }
    response = api["staff"].post(
        f"{URL}{customer.pk}/status/",
        {"status": ceased.pk, "reason": "Moved", "effective_date": "2026-01-05"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["status_name"] == "Ceased"
    history = api["staff"].get(f"{URL}{customer.pk}/status-history/").json()
    assert history[0]["reason"] == "Moved"


def test_historical_status_through_the_api(api):
    customer = CustomerFactory()
    ex = Status.objects.get(name="Ex-Customer")
    response = api["owner"].post(f"{URL}{customer.pk}/status/", {"status": ex.pk}, format="json")
    assert response.status_code == 400
    assert response.json()["status"] == [
        "“Ex-Customer” is a historical status and cannot be newly assigned."
    ]


def test_status_cannot_be_changed_by_patch(api):
    customer = CustomerFactory()
    suspended = Status.objects.get(name="Suspended")
    api["owner"].patch(f"{URL}{customer.pk}/", {"status": suspended.pk}, format="json")
    customer.refresh_from_db()
    assert customer.status.name == "Active"


def test_archive_restore_and_no_delete(api):
    customer = CustomerFactory()
    assert api["staff"].post(f"{URL}{customer.pk}/archive/", {}, format="json").status_code == 200
    assert api["staff"].get(URL).json()["results"] == []
    archived = api["staff"].get(URL, {"archived": "archived"}).json()["results"]
    assert [c["id"] for c in archived] == [customer.pk]
    assert api["staff"].post(f"{URL}{customer.pk}/restore/", {}, format="json").status_code == 200
    assert api["owner"].delete(f"{URL}{customer.pk}/").status_code == 405
    assert Customer.objects.filter(pk=customer.pk, archived=False).exists()


def test_same_filters_as_the_list_page(api, actor):
    vip = TagFactory(name="VIP")
    ann, _ = CustomerFactory(name="Ann"), CustomerFactory(name="Bob")
    services.customer_tags_set(actor=actor, customer=ann, tags=[vip])
    results = api["readonly"].get(URL, {"tag": vip.pk}).json()["results"]
    assert [c["name"] for c in results] == ["Ann"]


def test_cursor_pagination(api):
    for i in range(5):
        CustomerFactory(name=f"C{i}")
    first = api["owner"].get(URL, {"page_size": 2}).json()
    assert len(first["results"]) == 2
    assert "cursor=" in first["next"]
    second = api["owner"].get(first["next"]).json()
    assert {c["id"] for c in second["results"]}.isdisjoint({c["id"] for c in first["results"]})


def test_restricted_user_gets_404_through_the_api(api, staff, actor):
    region = GroupSet.objects.create(name="Region", single_choice=False)
    north, south = GroupFactory(group_set=region), GroupFactory(group_set=region)
    inside, outside = CustomerFactory(), CustomerFactory()
    services.customer_groups_set(actor=actor, customer=inside, groups=[north])
    services.customer_groups_set(actor=actor, customer=outside, groups=[south])
    staff.restricted_groups.set([north])
    assert api["staff"].get(f"{URL}{outside.pk}/").status_code == 404
    assert [c["id"] for c in api["staff"].get(URL).json()["results"]] == [inside.pk]


@pytest.mark.parametrize(
    ("role", "expected"),
    [("owner", 201), ("admin", 201), ("staff", 201), ("readonly", 403), ("anon", 401)],
)
def test_contact_create_by_role(api, role, expected):
    customer = CustomerFactory()
    response = api[role].post(
        "/api/contacts/",
        {"customer": customer.pk, "name": "Ann", "phone": "+44 113 496 0000"},
        format="json",
    )
    assert response.status_code == expected
    assert Contact.objects.filter(customer=customer).exists() is (expected == 201)
    if expected == 201:
        assert response.json()["phone"] == "+441134960000"
        assert Event.objects.filter(customer=customer, action="created").exists()


def test_contact_delete_logs_on_the_customer(api):
    contact = ContactFactory(name="Old Contact")
    response = api["staff"].delete(f"/api/contacts/{contact.pk}/")
    assert response.status_code == 204
    event = Event.objects.get(customer=contact.customer, action="deleted")
    assert event.message == "Removed contact Old Contact"
