"""Typing a new group on the customer overview, in a real browser (#15 item 9).

A customer already in a group of the single-choice "Customer group" (as every
demo customer is): a new name goes into the chosen multiple-choice set; a new
name in the single-choice set is offered as a move, and the move replaces the
group in one logged change.
"""

import os
from pathlib import Path

from playwright.sync_api import expect

from patron.core.actor import Actor
from patron.customers import services
from patron.events.models import Event
from patron.groups.models import Group, GroupSet
from tests.factories import CustomerFactory, GroupFactory

expect.set_options(timeout=10_000)
SHOTS = os.environ.get("PATRON_SCREENSHOTS")


def shot(page, name):
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.locator("#card-groups").screenshot(path=str(Path(SHOTS) / f"{name}.png"))


def test_new_group_in_a_chosen_set_and_a_move(browser_page, login, owner):
    customer_group = GroupSet.objects.get(name="Customer group")
    GroupSet.objects.create(name="Region", single_choice=False, position=200)
    residential = GroupFactory(group_set=customer_group, name="Residential")
    GroupFactory(group_set=customer_group, name="Business")
    customer = CustomerFactory(name="Hartley Farm Supplies")
    services.customer_group_add(
        actor=Actor.system_actor("tests"), customer=customer, group=residential
    )

    page = browser_page
    login(page, owner)
    page.goto(f"/customers/{customer.pk}/")
    card = page.locator("#card-groups")
    # The suggestions name their set.
    options = card.locator("datalist option")
    expect(options.first).to_have_attribute("value", "Business (Customer group)")
    shot(page, "1-card")

    # A new name in the multiple-choice set (the default choice) is created there.
    expect(card.get_by_label("New group in")).to_have_value(
        str(GroupSet.objects.get(name="Region").pk)
    )
    card.get_by_label("Group to add").fill("Spring promo")
    card.get_by_role("button", name="Add", exact=True).click()
    expect(card.get_by_test_id("groups")).to_contain_text("Spring promo")
    assert Group.objects.get(name="Spring promo").group_set.name == "Region"

    # A new name in the single-choice set: offered as a move, nothing created yet.
    card.get_by_label("Group to add").fill("Platinum")
    card.get_by_label("New group in").select_option(label="Customer group (single)")
    card.get_by_role("button", name="Add", exact=True).click()
    offer = card.get_by_test_id("group-move-offer")
    expect(offer).to_contain_text(
        "Move from “Residential” to a new group “Platinum” in “Customer group” instead?"
    )
    shot(page, "2-offer")
    assert not Group.objects.filter(name="Platinum").exists()

    offer.get_by_role("button", name="Move to Platinum").click()
    expect(card.get_by_test_id("group-move-offer")).to_have_count(0)
    memberships = card.get_by_test_id("groups")
    expect(memberships).to_contain_text("Platinum")
    expect(memberships).not_to_contain_text("Residential")
    expect(page.get_by_test_id("event-log")).to_contain_text(
        "Moved from Residential to Platinum in Customer group"
    )
    shot(page, "3-moved")
    assert sorted(customer.groups.values_list("name", flat=True)) == ["Platinum", "Spring promo"]
    assert (
        Event.objects.filter(
            customer=customer, message="Moved from Residential to Platinum in Customer group"
        ).count()
        == 1
    )
