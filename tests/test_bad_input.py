"""Each bad input the foundation names, in the web UI and in the API.

For every one: the exact message a person reads, and proof that nothing was
half-written (the rows and the event log are as they were).
"""

import pytest
from django.urls import reverse

from patron.customers import services
from patron.customers.models import Contact, Customer
from patron.events.models import Event
from patron.groups.models import Group, GroupSet
from patron.statuses.models import Status
from patron.tags.models import Tag
from tests.factories import CustomerFactory, GroupFactory, TagFactory

pytestmark = pytest.mark.django_db


def status(name):
    return Status.objects.get(name=name)


def page_text(response) -> str:
    return response.content.decode()


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def held(actor):
    """Ann, who is in “Business” of the single-choice set “Customer group”."""
    single = GroupSet.objects.get(name="Customer group")
    GroupFactory(group_set=single, name="Residential")
    business = GroupFactory(group_set=single, name="Business")
    ann = CustomerFactory(name="Ann Smith")
    services.customer_group_add(actor=actor, customer=ann, group=business)
    return ann


HELD_MESSAGE = (
    "Ann Smith is already in “Business” of the single-choice set “Customer group”; "
    "remove it before adding “Residential”."
)


# --- duplicate names in another case -------------------------------------------


def test_duplicate_tag_name_in_another_case_ui(owner_client):
    TagFactory(name="VIP")
    response = owner_client.post(reverse("tags:add"), {"name": "vip", "colour": "#ff0000"})
    assert response.status_code == 400
    assert response.context["form"].errors["name"] == ["A tag named “VIP” already exists."]
    assert list(Tag.objects.values_list("name", flat=True)) == ["VIP"]
    assert not Event.objects.exists()


def test_duplicate_tag_name_in_another_case_api(api):
    TagFactory(name="VIP")
    response = api["owner"].post("/api/tags/", {"name": "vIp"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"name": ["A tag named “VIP” already exists."]}
    assert Tag.objects.count() == 1


def test_duplicate_group_name_in_another_case_ui(owner_client):
    GroupFactory(name="North")
    count = Group.objects.count()
    response = owner_client.post(
        reverse("groups:add"),
        {
            "group_set": GroupSet.objects.get(name="Customer group").pk,
            "name": "NORTH",
            "colour": "#6c757d",
            "display_class": "secondary",
            "position": 0,
        },
    )
    assert response.status_code == 400
    assert response.context["form"].errors["name"] == ["A group named “North” already exists."]
    assert Group.objects.count() == count


def test_duplicate_group_name_in_another_case_api(api):
    GroupFactory(name="North")
    count = Group.objects.count()
    response = api["admin"].post(
        "/api/groups/",
        {"name": "north", "group_set": GroupSet.objects.get(name="Customer group").pk},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"name": ["A group named “North” already exists."]}
    assert Group.objects.count() == count


# --- a second group from a single-choice set -----------------------------------


def test_second_single_choice_group_ui_names_the_group_held(owner_client, held):
    events = Event.objects.count()
    response = owner_client.post(
        reverse("customers:group_add", args=[held.pk]),
        {"name": "Residential"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert response.context["card_error"] == HELD_MESSAGE
    assert HELD_MESSAGE in page_text(response)
    assert list(held.groups.values_list("name", flat=True)) == ["Business"]
    assert Event.objects.count() == events


def test_second_single_choice_group_api_names_the_group_held(api, held):
    business = Group.objects.get(name="Business")
    residential = Group.objects.get(name="Residential")
    events = Event.objects.count()
    response = api["staff"].patch(
        f"/api/customers/{held.pk}/", {"groups": [business.pk, residential.pk]}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"groups": [HELD_MESSAGE]}
    assert list(held.groups.values_list("name", flat=True)) == ["Business"]
    assert Event.objects.count() == events


# --- historical status; required reason and date -------------------------------

HISTORICAL = "“Ex-Customer” is a historical status and cannot be newly assigned."


def test_historical_status_ui(owner_client):
    customer = CustomerFactory(name="Old Co")
    form = owner_client.get(reverse("customers:detail", args=[customer.pk])).context["status_form"]
    offered = [label for _, label in form.fields["status"].choices]
    assert "Ex-Customer" not in offered
    assert "Active" not in offered  # the status it already has
    assert "Suspended" in offered
    assert "Ex-Customer" not in str(form["status"])
    response = owner_client.post(
        reverse("customers:status_change", args=[customer.pk]),
        {"status": status("Ex-Customer").pk},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert response.context["status_form"].errors["status"] == [HISTORICAL]
    assert HISTORICAL in page_text(response)
    customer.refresh_from_db()
    assert customer.status.name == "Active"
    assert not customer.status_changes.exclude(to_status__name="Active").exists()


def test_historical_status_api(api):
    customer = CustomerFactory(name="Old Co")
    response = api["owner"].post(
        f"/api/customers/{customer.pk}/status/",
        {"status": status("Ex-Customer").pk},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"status": [HISTORICAL]}
    customer.refresh_from_db()
    assert customer.status.name == "Active"
    assert not Event.objects.filter(customer=customer).exists()


def test_status_change_without_required_reason_or_date_ui(owner_client):
    customer = CustomerFactory(name="Cease Me")
    response = owner_client.post(
        reverse("customers:status_change", args=[customer.pk]),
        {"status": status("Ceased").pk, "reason": "", "effective_date": ""},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    errors = response.context["status_form"].errors
    assert errors["reason"] == ["A reason is required to change to “Ceased”."]
    assert errors["effective_date"] == ["An effective date is required to change to “Ceased”."]
    assert "HX-Trigger" not in response
    customer.refresh_from_db()
    assert customer.status.name == "Active"
    assert not Event.objects.filter(customer=customer).exists()


def test_status_change_without_required_reason_or_date_api(api):
    customer = CustomerFactory(name="Cease Me")
    response = api["staff"].post(
        f"/api/customers/{customer.pk}/status/", {"status": status("Ceased").pk}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "reason": ["A reason is required to change to “Ceased”."],
        "effective_date": ["An effective date is required to change to “Ceased”."],
    }
    customer.refresh_from_db()
    assert customer.status.name == "Active"
    assert not Event.objects.filter(customer=customer).exists()


# --- invalid phone ----------------------------------------------------------------


def test_invalid_phone_ui_contact_form(owner_client):
    customer = CustomerFactory()
    response = owner_client.post(
        reverse("customers:contact_add", args=[customer.pk]),
        {"name": "Ann", "phone": "+44 7700 900123"},
    )
    assert response.status_code == 400
    (message,) = response.context["form"].errors["phone"]
    assert "+44 7700 900123" in message
    assert "is not a valid number for United Kingdom (GB)" in message
    assert not Contact.objects.exists()
    assert not Event.objects.exists()


def test_invalid_phone_api(api):
    customer = CustomerFactory()
    response = api["staff"].post(
        "/api/contacts/",
        {"customer": customer.pk, "name": "Ann", "mobile": "12345"},
        format="json",
    )
    assert response.status_code == 400
    (message,) = response.json()["mobile"]
    assert "is not a valid number for United Kingdom (GB)" in message
    assert not Contact.objects.exists()
    assert not Event.objects.exists()


# --- unknown tag or group ids in API writes ------------------------------------


@pytest.mark.parametrize("field", ["tags", "groups"])
def test_unknown_tag_or_group_id_api_create(api, field):
    response = api["owner"].post(
        "/api/customers/",
        {"name": "Ghost Ltd", "kind": "company", "status": status("Active").pk, field: [999999]},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {field: ['Invalid pk "999999" - object does not exist.']}
    assert not Customer.objects.exists()
    assert not Event.objects.exists()


@pytest.mark.parametrize("field", ["tags", "groups"])
def test_unknown_tag_or_group_id_api_update(api, field):
    customer = CustomerFactory(name="Kept")
    response = api["owner"].patch(
        f"/api/customers/{customer.pk}/", {"name": "Changed", field: [999999]}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {field: ['Invalid pk "999999" - object does not exist.']}
    customer.refresh_from_db()
    assert (customer.name, customer.version) == ("Kept", 1)
    assert not Event.objects.exists()


def test_unknown_tag_id_ui_overview(owner_client):
    customer = CustomerFactory()
    response = owner_client.post(
        reverse("customers:tag_add", args=[customer.pk]), {"tag": 999999}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert response.context["card_error"] == (
        "That tag no longer exists; reload the page to see the current ones."
    )
    assert not customer.tags.exists()
    assert not Event.objects.filter(customer=customer).exists()


def test_group_deleted_since_the_page_opened_is_a_card_message(owner_client):
    customer = CustomerFactory()
    response = owner_client.post(
        reverse("customers:group_remove", args=[customer.pk]),
        {"group": 999999},
        HTTP_HX_REQUEST="true",
    )
    assert response.context["card_error"] == (
        "That group no longer exists; reload the page to see the current ones."
    )


# --- stale versions ----------------------------------------------------------------


def test_stale_if_match_api_is_412(api, actor):
    customer = CustomerFactory(name="Original")
    services.customer_update(actor=actor, customer=customer, data={"name": "Elsewhere"})
    events = Event.objects.count()
    response = api["owner"].patch(
        f"/api/customers/{customer.pk}/",
        {"name": "Mine"},
        format="json",
        HTTP_IF_MATCH=f'"{customer.pk}-1"',
    )
    assert response.status_code == 412
    assert "changed by someone else" in response.json()["detail"]
    customer.refresh_from_db()
    assert customer.name == "Elsewhere"
    assert Event.objects.count() == events


def test_stale_web_form_shows_the_conflict_message(owner_client, actor):
    tag = TagFactory(name="VIP")
    from patron.tags import services as tag_services

    tag_services.tag_update(actor=actor, tag=tag, data={"description": "Elsewhere"})
    response = owner_client.post(
        reverse("tags:edit", args=[tag.pk]),
        {"name": "Very important", "colour": "#ff0000", "version": 1},
    )
    assert response.status_code == 409
    assert response.context["form"].non_field_errors() == [
        "Tag “VIP” was changed by someone else since you opened it. "
        "Reload to see their changes, then apply yours again."
    ]
    tag.refresh_from_db()
    assert (tag.name, tag.description) == ("VIP", "Elsewhere")


def test_stale_notes_on_the_overview_show_the_conflict(owner_client, actor):
    customer = CustomerFactory(name="Ann")
    services.customer_update(actor=actor, customer=customer, data={"notes": "Elsewhere"})
    response = owner_client.post(
        reverse("customers:notes", args=[customer.pk]),
        {"notes": "Mine", "version": 1},
        HTTP_HX_REQUEST="true",
    )
    assert "was changed by someone else" in response.context["card_error"]
    customer.refresh_from_db()
    assert customer.notes == "Elsewhere"


# --- Staff editing a status; anonymous API calls --------------------------------


def test_staff_editing_a_status_ui(staff_client):
    active = status("Active")
    assert staff_client.get(reverse("statuses:edit", args=[active.pk])).status_code == 403
    response = staff_client.post(
        reverse("statuses:edit", args=[active.pk]), {"name": "Live", "short_name": "LIVE"}
    )
    assert response.status_code == 403
    assert "Your role does not allow you to change statuses." in page_text(response)
    active.refresh_from_db()
    assert (active.name, active.version) == ("Active", 1)
    assert not Event.objects.exists()


def test_staff_editing_a_status_api(api):
    active = status("Active")
    response = api["staff"].patch(f"/api/statuses/{active.pk}/", {"name": "Live"}, format="json")
    assert response.status_code == 403
    assert response.json() == {"detail": "You do not have permission to perform this action."}
    active.refresh_from_db()
    assert active.name == "Active"
    assert not Event.objects.exists()


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/api/customers/"),
        ("post", "/api/customers/"),
        ("post", "/api/tags/"),
        ("get", "/api/events/"),
    ],
)
def test_anonymous_api_call_is_401_with_a_json_detail(api, method, url):
    response = getattr(api["anon"], method)(url, {"name": "Anon"}, format="json")
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}
    assert response["WWW-Authenticate"]
    assert not Customer.objects.exists()
    assert not Tag.objects.exists()


def test_anonymous_web_request_goes_to_sign_in(client):
    response = client.post(reverse("tags:add"), {"name": "Anon"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    assert not Tag.objects.exists()
