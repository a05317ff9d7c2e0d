"""The Groups card's typed-name box (#15 item 9): a new group goes into the set the
user chooses, suggestions name their set, and in a single-choice set the card
offers to move the customer instead of only refusing."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from patron.core.errors import ValidationError
from patron.customers import services
from patron.customers.models import GroupMembership
from patron.events.models import Event
from patron.groups.models import Group, GroupSet
from patron.groups.services import customer_group_add_typed, customer_group_move
from tests.factories import CustomerFactory, GroupFactory, GroupSetFactory

pytestmark = pytest.mark.django_db

HELD = (
    "Ann Smith is already in “Residential” of the single-choice set “Customer group”; "
    "remove it before adding “Platinum”."
)


@pytest.fixture
def demo(actor):
    """Like the demo data: every customer has a group of the single-choice
    “Customer group” (the first set); “Region” is a multiple-choice set."""
    customer_group = GroupSet.objects.get(name="Customer group")
    region = GroupSetFactory(name="Region", single_choice=False, position=200)
    residential = GroupFactory(group_set=customer_group, name="Residential")
    business = GroupFactory(group_set=customer_group, name="Business")
    leeds = GroupFactory(group_set=region, name="Leeds")
    ann = CustomerFactory(name="Ann Smith")
    services.customer_group_add(actor=actor, customer=ann, group=residential)
    return {
        "set": customer_group,
        "region": region,
        "residential": residential,
        "business": business,
        "leeds": leeds,
        "ann": ann,
    }


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


def add(client, customer, **data):
    return client.post(
        reverse("customers:group_add", args=[customer.pk]), data, HTTP_HX_REQUEST="true"
    )


def group_events(customer):
    return list(Event.objects.filter(customer=customer, action="groups_changed").order_by("id"))


def names(customer):
    return sorted(customer.groups.values_list("name", flat=True))


def test_suggestions_show_the_set_and_the_set_choice_defaults_to_a_multi_choice_set(
    owner_client, demo
):
    response = owner_client.get(reverse("customers:detail", args=[demo["ann"].pk]))
    body = response.content.decode()
    assert '<option value="Business (Customer group)">' in body
    assert '<option value="Leeds (Region)">' in body
    assert "Residential (Customer group)" not in body, "a group already held is not suggested"
    choice = body.split('data-testid="group-set-choice"')[1].split("</select>")[0]
    assert f'<option value="{demo["region"].pk}" selected>Region (multiple)' in choice
    assert f'<option value="{demo["set"].pk}">Customer group (single)' in choice


def test_a_new_name_in_a_multi_choice_set_is_created_there(owner_client, demo):
    ann = demo["ann"]
    response = add(owner_client, ann, name="Spring promo", group_set=demo["region"].pk)
    assert response.status_code == 200 and response["HX-Trigger"] == "customer-changed"
    assert Group.objects.get(name="Spring promo").group_set == demo["region"]
    assert names(ann) == ["Residential", "Spring promo"]


def test_a_new_name_without_a_chosen_set_goes_to_the_first_multi_choice_set(owner_client, demo):
    add(owner_client, demo["ann"], name="Summer promo")
    assert Group.objects.get(name="Summer promo").group_set == demo["region"]
    assert "Summer promo" in names(demo["ann"])


def test_a_new_name_in_the_single_choice_set_offers_a_move_then_moves(owner_client, demo):
    ann = demo["ann"]
    before = len(group_events(ann))
    offer = add(owner_client, ann, name="Platinum", group_set=demo["set"].pk)
    assert offer.status_code == 200 and "HX-Trigger" not in offer
    body = offer.content.decode()
    assert offer.context["card_error"] == HELD
    assert 'data-testid="group-move-offer"' in body
    assert "Move from “Residential” to a new group “Platinum” in “Customer group” instead?" in body
    assert "Move to Platinum" in body
    assert not Group.objects.filter(name="Platinum").exists(), "nothing is created yet"
    assert names(ann) == ["Residential"] and len(group_events(ann)) == before

    moved = add(owner_client, ann, name="Platinum", group_set=demo["set"].pk, move="on")
    assert moved.status_code == 200 and moved["HX-Trigger"] == "customer-changed"
    assert not moved.context["card_error"]
    assert Group.objects.get(name="Platinum").group_set == demo["set"]
    assert names(ann) == ["Platinum"]
    (event,) = group_events(ann)[before:]
    assert event.message == "Moved from Residential to Platinum in Customer group"
    assert event.changes == {"groups": [["Residential"], ["Platinum"]]}


def test_an_existing_group_picked_from_the_suggestions_is_a_move_too(owner_client, demo):
    ann = demo["ann"]
    offer = add(owner_client, ann, name="Business (Customer group)")
    assert "Move from “Residential” to “Business” in “Customer group” instead?" in (
        offer.content.decode()
    )
    assert names(ann) == ["Residential"]
    until = timezone.localdate() + datetime.timedelta(days=30)
    add(owner_client, ann, name="Business", move="on", valid_until=until.isoformat())
    assert names(ann) == ["Business"]
    assert GroupMembership.objects.get(customer=ann).valid_until == until
    assert group_events(ann)[-1].message == (
        f"Moved from Residential to Business in Customer group (until {until.isoformat()})"
    )


def test_a_suggestion_of_a_multi_choice_group_just_adds(owner_client, demo):
    add(owner_client, demo["ann"], name="Leeds (Region)")
    assert names(demo["ann"]) == ["Leeds", "Residential"]


def test_a_move_cannot_start_on_a_later_day(actor, demo):
    later = timezone.localdate() + datetime.timedelta(days=3)
    with pytest.raises(ValidationError) as exc:
        customer_group_add_typed(
            actor=actor, customer=demo["ann"], name="Business", move=True, valid_from=later
        )
    assert "A move happens at once" in exc.value.message_dict["valid_from"][0]
    assert names(demo["ann"]) == ["Residential"]


def test_move_without_a_group_in_the_set_is_a_plain_add(actor, demo):
    bob = CustomerFactory(name="Bob")
    customer_group_move(actor=actor, customer=bob, group=demo["business"])
    assert names(bob) == ["Business"]
    assert group_events(bob)[-1].message == "Groups: added Business"


def test_move_keeps_the_other_rules(actor, demo):
    payments = GroupSetFactory(name="Payer", single_choice=False)
    first = GroupFactory(group_set=payments, name="Landlord", payment_group=True)
    second = GroupFactory(group_set=demo["set"], name="Employer", payment_group=True)
    services.customer_group_add(actor=actor, customer=demo["ann"], group=first)
    with pytest.raises(ValidationError, match="only one payment group"):
        customer_group_move(actor=actor, customer=demo["ann"], group=second)
    assert names(demo["ann"]) == ["Landlord", "Residential"]


def test_a_role_that_cannot_create_groups_gets_no_set_choice(client, staff, demo):
    client.force_login(staff)
    body = client.get(reverse("customers:detail", args=[demo["ann"].pk])).content.decode()
    assert 'data-testid="group-set-choice"' not in body
    response = add(client, demo["ann"], name="Brand new", group_set=demo["region"].pk)
    assert "your role cannot create groups" in response.context["card_error"]
    assert not Group.objects.filter(name="Brand new").exists()


def test_api_adds_with_move(owner, demo):
    from tests.conftest import token_client

    api = token_client(owner)
    url = f"/api/customers/{demo['ann'].pk}/memberships/"
    refused = api.post(url, {"group": demo["business"].pk}, format="json")
    assert refused.status_code == 400
    assert "already in “Residential”" in refused.json()["group"][0]
    moved = api.post(url, {"group": demo["business"].pk, "move": True}, format="json")
    assert moved.status_code == 201
    assert [m["group_name"] for m in moved.json()["memberships"]] == ["Business"]
    assert group_events(demo["ann"])[-1].message == (
        "Moved from Residential to Business in Customer group"
    )
